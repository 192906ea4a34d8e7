"""Figures of a fitted ModelSearch: cumulative gains, calibration and permutation importance.

Each function reads the search's out-of-fold tables (``oof_``, ``calibration_``,
``permutation_importance_``), recomputes no model, and returns a plotly ``Figure``, so the same
chart serves a notebook, the analysis report and the model card of ``crmine model evaluate``.
Callers may restyle the figure (titles, axis labels) before showing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmine.errors import NotFittedError, SettingsError
from crmine.schema import require_columns

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from crmine.predict._search import ModelSearch

__all__ = ["calibration_figure", "gains_figure", "importance_figure"]

_GREY = "grey"
_DIAGONAL = {"dash": "dot", "color": _GREY}


def _require_fitted(search: ModelSearch, where: str) -> None:
    """Raise NotFittedError unless ``search`` carries the out-of-fold state the figures read."""
    needed = ("best_", "results_", "oof_", "calibration_", "permutation_importance_")
    if not all(hasattr(search, name) for name in needed):
        raise NotFittedError(
            f"{where} needs a fitted ModelSearch; this {type(search).__name__} is not fitted. "
            "Call .fit(frame) first, or ModelSearch.load(path) a saved one."
        )


def _resolve(search: ModelSearch, names: Sequence[str]) -> list[str]:
    """``names`` checked against the fitted candidates; every unknown one is listed at once."""
    fitted = [str(c) for c in search.results_.index]
    unknown = [n for n in names if n not in fitted]
    if unknown:
        raise SettingsError(
            f"Unknown candidate(s) {', '.join(map(repr, unknown))}; fitted: {', '.join(fitted)}. "
            f"Pass one of these, or None for the best ({search.best_!r})."
        )
    return list(names)


def gains_figure(
    search: ModelSearch, /, candidates: str | Sequence[str] | None = None
) -> go.Figure:
    """Cumulative gains curves of out-of-fold scores, against the random diagonal.

    Customers are sorted by score, highest first, and cut into deciles (see
    ``ModelSearch.gains_table``); each point is the share of customers contacted and the share
    of all positives among them. Both axes are shares, shown in percent.

    Parameters
    ----------
    search
        A fitted search.
    candidates
        Candidate name(s) to draw, including "baseline"; None draws the best.

    Returns
    -------
    plotly.graph_objects.Figure
        One trace per candidate, named after it, starting at (0, 0) and ending at (1, 1), and a
        dotted trace "random".

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmine.predict import ModelSearch
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> frame = pd.DataFrame({"x": x, "noise": rng.normal(size=300),
    ...                       "bought": np.where(x + rng.normal(size=300) > 1, "yes", "no")})
    >>> search = ModelSearch(target="bought", candidates=("logistic",), cv=3).fit(frame)
    >>> [trace.name for trace in gains_figure(search, ["logistic", "baseline"]).data]
    ['logistic', 'baseline', 'random']
    """
    import plotly.graph_objects as go

    _require_fitted(search, "gains_figure")
    if candidates is None:
        names = [search.best_]
    elif isinstance(candidates, str):
        names = [candidates]
    else:
        names = list(candidates)
    names = _resolve(search, names)
    fig = go.Figure()
    for name in names:
        table = search.gains_table(name)
        contacted = table["count"].cumsum().to_numpy() / table["count"].sum()
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([[0.0], contacted]),
                y=np.concatenate([[0.0], table["cumulative_gains"].to_numpy()]),
                mode="lines+markers",
                name=name,
                line={
                    "width": 3 if name == search.best_ else 2,
                    **({"dash": "dash", "color": _GREY} if name == "baseline" else {}),
                },
                hovertemplate=f"{name}: contacted %{{x:.0%}}, reached %{{y:.1%}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[0, 1], y=[0, 1], mode="lines", name="random", line=_DIAGONAL, hoverinfo="skip"
        )
    )
    fig.update_layout(
        title="Cumulative gains (out-of-fold)",
        xaxis={"title": "share of customers contacted", "tickformat": ".0%", "range": [0, 1]},
        yaxis={"title": "share of positives reached", "tickformat": ".0%", "range": [0, 1.02]},
    )
    return fig


def calibration_figure(search: ModelSearch, /, candidate: str | None = None) -> go.Figure:
    """Observed positive rate against mean predicted probability, per probability bin.

    The points are the non-empty rows of ``search.calibration_[candidate]`` (out-of-fold,
    equal-width bins); a well calibrated model lies on the dotted diagonal. Hovering a point
    shows the number of customers in its bin.

    Parameters
    ----------
    search
        A fitted search.
    candidate
        The candidate to draw, including "baseline"; None draws the best.

    Returns
    -------
    plotly.graph_objects.Figure
        A trace named after the candidate (x mean predicted, y observed rate, bin counts as
        ``customdata``) and a dotted trace "perfect".
    """
    import plotly.graph_objects as go

    _require_fitted(search, "calibration_figure")
    (name,) = _resolve(search, [search.best_ if candidate is None else candidate])
    table = search.calibration_[name]
    table = table[table["count"] > 0]
    fig = go.Figure(
        [
            go.Scatter(
                x=table["mean_predicted"],
                y=table["observed_rate"],
                customdata=table["count"],
                mode="lines+markers",
                name=name,
                hovertemplate="predicted %{x:.2f}, observed %{y:.2f} (n=%{customdata:,})<extra></extra>",
            ),
            go.Scatter(
                x=[0, 1], y=[0, 1], mode="lines", name="perfect", line=_DIAGONAL, hoverinfo="skip"
            ),
        ]
    )
    fig.update_layout(
        title="Calibration (out-of-fold)",
        xaxis={"title": "mean predicted probability", "range": [0, 1]},
        yaxis={"title": "observed rate", "range": [0, 1]},
    )
    return fig


def importance_figure(source: ModelSearch | pd.DataFrame, /, top: int = 10) -> go.Figure:
    """Horizontal bars of permutation importance, the biggest on top, with std error bars.

    Importance is the drop in held-out ROC AUC when a column is shuffled (see
    ``ModelSearch.permutation_importance_``), for the best candidate.

    Parameters
    ----------
    source
        A fitted search, or a table with columns feature, importance and std (such as the one
        ``ws.models.drivers()`` returns).
    top
        How many features to show, the most important first.

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace whose ``y`` lists the features in decreasing importance; the category axis
        is reversed so the first is drawn on top.
    """
    import plotly.graph_objects as go

    if isinstance(source, pd.DataFrame):
        require_columns(list(map(str, source.columns)), ["feature", "importance", "std"],
                        where="Importance table")
        table = source
    else:
        _require_fitted(source, "importance_figure")
        table = source.permutation_importance_
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise SettingsError(f"top must be a positive integer; received {top!r}.")
    table = table.sort_values("importance", ascending=False, kind="stable").head(top)
    fig = go.Figure(
        go.Bar(
            x=table["importance"],
            y=table["feature"].astype(str),
            orientation="h",
            error_x={"type": "data", "array": table["std"].to_numpy()},
            marker_color="#1f77b4",
            hovertemplate="%{y}: %{x:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        title="Top predictors (drop in held-out ROC AUC when shuffled)",
        xaxis_title="importance",
        yaxis={"autorange": "reversed"},
        height=max(320, 120 + 28 * len(table)),
    )
    return fig
