"""Charts of a fitted :class:`~crmine.segment.Segmenter`; plotly is imported only when drawing."""

from __future__ import annotations

from crmine.segment._segmenter import Segmenter

__all__ = ["plot_segment_profile", "plot_selection_curve"]


def plot_selection_curve(segmenter: Segmenter, /):
    """Silhouette (k-means) or BIC (Gaussian mixture) against k, the chosen k marked; returns a
    plotly Figure."""
    import plotly.graph_objects as go

    segmenter._check_fitted()
    curve = segmenter.selection_curve_
    metric = "silhouette" if "silhouette" in curve.columns else "bic"
    better = "higher is better" if metric == "silhouette" else "lower is better"
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=curve["k"], y=curve[metric], mode="lines+markers", name=metric))
    chosen = curve[curve["chosen"]]
    fig.add_trace(
        go.Scatter(
            x=chosen["k"],
            y=chosen[metric],
            mode="markers",
            name="chosen",
            marker={"size": 14, "symbol": "circle-open"},
        )
    )
    fig.update_layout(
        title=f"Choosing the number of segments ({metric}, {better})",
        xaxis_title="number of segments k",
        yaxis_title=metric,
    )
    return fig


def plot_segment_profile(segmenter: Segmenter, /):
    """Heatmap of each segment's feature z-scores, rows labelled with segment names and sizes;
    returns a plotly Figure."""
    import plotly.graph_objects as go

    segmenter._check_fitted()
    c = segmenter.centers_
    prof = segmenter.profile_
    labels = [
        f"{s}: {prof.loc[s, 'name']} (n={prof.loc[s, 'size']:,}, {prof.loc[s, 'share']:.0%})"
        for s in c.index
    ]
    bound = float(max(1.0, abs(c.to_numpy()).max()))
    fig = go.Figure(
        go.Heatmap(
            z=c.to_numpy(),
            x=list(c.columns),
            y=labels,
            colorscale="RdBu",
            reversescale=True,
            zmin=-bound,
            zmax=bound,
            colorbar={"title": "z"},
            hovertemplate="%{y}<br>%{x}: %{z:+.2f} sd<extra></extra>",
        )
    )
    fig.update_layout(
        title="What sets each segment apart (segment mean vs overall, in sd)",
        yaxis={"autorange": "reversed"},
    )
    return fig
