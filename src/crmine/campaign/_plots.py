"""Figures of uplift rankings: Qini and uplift curves against random, and realised lift per decile.

Each function returns a plotly ``Figure`` (plotly is imported inside), so a notebook, the report
and a file all show the same picture. The curves take the outcomes, the treatment flags and one
or more rankings (``qini_curve`` / ``uplift_curve`` of :mod:`crmine.campaign._metrics`); a fitted
:class:`~crmine.campaign.UpliftModel` gives its out-of-fold rankings with :func:`model_rankings`.
Only aggregates are drawn, never a customer's row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmine.campaign._metrics import qini_coefficient, qini_curve, uplift_curve
from crmine.errors import SchemaError

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["model_rankings", "qini_figure", "realised_lift_figure", "uplift_curve_figure"]

_GREY = "grey"
_RANDOM = {"dash": "dot", "color": _GREY}
_MAX_POINTS = 400  # a curve is thinned to about this many points: the picture, not the rows


def model_rankings(model: Any, /, arm: str | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Out-of-fold outcome, treated flag and the uplift and response rankings of a fitted model's arm."""
    model._check_fitted()
    o = model.oof_[model._arm(arm)]
    return (o["outcome"].to_numpy(float), o["treated"].to_numpy(int),
            {"uplift model": o["uplift"].to_numpy(float), "response model": o["response"].to_numpy(float)})


def _thin(x: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= _MAX_POINTS:
        return x, q
    keep = np.unique(np.r_[np.linspace(0, len(x) - 1, _MAX_POINTS).astype(int), len(x) - 1])
    return x[keep], q[keep]


def _curves(curve, title: str, y_title: str, y, treatment, rankings: Mapping[str, Any]) -> go.Figure:
    import plotly.graph_objects as go

    if not rankings:
        raise SchemaError("Give at least one ranking (name -> scores) to draw.")
    fig = go.Figure()
    end = None
    for name, score in rankings.items():
        x, q = curve(y, treatment, score)
        end = (x[-1], q[-1])
        share = x / x[-1] if x[-1] else x
        share, q = _thin(share, q)
        label = f"{name} (Qini {qini_coefficient(y, treatment, score):.3f})"
        fig.add_trace(go.Scatter(x=share, y=q, mode="lines", name=label,
                                 hovertemplate=f"{name}: top %{{x:.0%}}, %{{y:.3g}}<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, end[1]], mode="lines", name="random", line=_RANDOM, hoverinfo="skip"))
    fig.update_layout(title=title, xaxis={"title": "share of customers targeted, by ranking", "tickformat": ".0%"},
                      yaxis={"title": y_title})
    return fig


def qini_figure(y, treatment, rankings: Mapping[str, Any], /, *, title: str = "Qini curves") -> go.Figure:
    """Qini curves (incremental outcome among the treated of the top share) of each ranking,
    against the random line; each trace is labelled with its Qini coefficient.

    Examples
    --------
    >>> y, w = [1, 0, 1, 0, 0, 1, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0]
    >>> fig = qini_figure(y, w, {"good": [4, 3, 2, 1, 0, -1, -2, -3]})
    >>> [t.name for t in fig.data]
    ['good (Qini 0.544)', 'random']
    """
    return _curves(qini_curve, title, "incremental outcome (Qini)", y, treatment, rankings)


def uplift_curve_figure(y, treatment, rankings: Mapping[str, Any], /, *,
                        title: str = "Uplift curves") -> go.Figure:
    """Uplift curves (treated mean minus control mean among the top share, times its size)."""
    return _curves(uplift_curve, title, "uplift x customers targeted", y, treatment, rankings)


def realised_lift_figure(table: pd.DataFrame, /, *, title: str | None = None) -> go.Figure:
    """Bars of the realised lift per decile of forecast uplift (a ``realised_lift`` or
    ``uplift_by_decile`` table) with their intervals when present, and the forecast as markers."""
    import plotly.graph_objects as go

    missing = [c for c in ("decile", "lift" if "lift" in table.columns else "uplift", "predicted_uplift")
               if c not in table.columns]
    if missing:
        raise SchemaError(f"The decile table lacks column(s) {', '.join(missing)}; pass what realised_lift "
                          "or uplift_by_decile returns.")
    lift = table["lift"] if "lift" in table.columns else table["uplift"]
    bar: dict[str, Any] = {"x": table["decile"], "y": lift, "name": "realised lift"}
    if {"ci_low", "ci_high"} <= set(table.columns):
        bar["error_y"] = {"type": "data", "symmetric": False, "array": table["ci_high"] - lift,
                          "arrayminus": lift - table["ci_low"]}
    fig = go.Figure(go.Bar(**bar))
    fig.add_trace(go.Scatter(x=table["decile"], y=table["predicted_uplift"], mode="markers+lines",
                             name="forecast uplift", line={"color": _GREY, "dash": "dash"}))
    fig.add_hline(y=0, line_dash="dot", line_color=_GREY)
    fig.update_layout(title=title or "Realised lift per decile of forecast uplift (1 = highest)",
                      xaxis={"title": "decile of forecast uplift", "dtick": 1},
                      yaxis={"title": "treatment mean - control mean"})
    return fig
