"""The parts of an offline HTML page shared by the analysis report and the model card.

A page is a list of :class:`Section` objects (KPIs, tables, plotly figures, notes) rendered by
:func:`render_page` into the one template of ``_template``, with plotly.js embedded once, and
written by :func:`write_page` without ever leaving a half-written file at the target path.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmine import _atomic
from crmine._version import __version__
from crmine.report._template import TEMPLATE

__all__ = ["Section", "render_page", "write_page"]

LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 30, "t": 50, "b": 50}, "height": 420}


@dataclass
class Section:
    """One part of the page: an anchor ``id``, a ``title``, one sentence on ``how`` to read it."""

    id: str
    title: str
    how: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def kpis(self, items: list[tuple[str, str]]) -> None:
        self.blocks.append(
            {"kind": "kpis", "entries": [{"label": k, "value": v} for k, v in items]}
        )

    def table(self, frame: pd.DataFrame, *, title: str = "", percent: tuple[str, ...] = ()) -> None:
        self.blocks.append(_table_block(frame, title=title, percent=percent))

    def figure(self, fig: Any) -> None:
        from markupsafe import Markup

        fig.update_layout(**{k: v for k, v in LAYOUT.items() if k != "height"})
        if fig.layout.height is None:
            fig.update_layout(height=LAYOUT["height"])
        html = fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False})
        self.blocks.append({"kind": "figure", "html": Markup(html)})

    def note(self, text: str) -> None:
        self.blocks.append({"kind": "note", "text": text})


def _fmt(v: Any, *, percent: bool = False) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        if percent:
            return f"{float(v):.1%}"
        return (
            f"{float(v):,.0f}"
            if abs(v) >= 1000
            else f"{float(v):,.3g}"
            if abs(v) < 1
            else f"{float(v):,.2f}"
        )
    if isinstance(v, (pd.Timestamp, dt.datetime)):
        return f"{v:%Y-%m-%d %H:%M}"
    return str(v)


def _table_block(frame: pd.DataFrame, *, title: str, percent: tuple[str, ...]) -> dict[str, Any]:
    cols = [str(c) for c in frame.columns]
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    rows = [
        [_fmt(v, percent=str(c) in percent) for c, v in zip(frame.columns, r, strict=True)]
        for r in frame.itertuples(index=False, name=None)
    ]
    return {"kind": "table", "title": title, "columns": cols, "numeric": numeric, "rows": rows}


def render_page(sections: Sequence[Section], *, title: str, subtitle: str, footer: str) -> str:
    """The whole page as one HTML string: header, table of contents, sections, footer.

    Parameters
    ----------
    sections
        The sections in page order; each gets an entry in the table of contents.
    title
        The page title and heading.
    subtitle
        One line under the heading (what the page is about); the time and crmine version follow.
    footer
        One line at the bottom, e.g. where the numbers come from.

    Returns
    -------
    str
        Self-contained HTML: plotly.js is inlined once and nothing is fetched from the network.
    """
    import jinja2
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TEMPLATE).render(
        title=title,
        subtitle=subtitle,
        footer=footer,
        generated=f"{dt.datetime.now():%Y-%m-%d %H:%M}",
        version=__version__,
        sections=list(sections),
        # The bundle holds no "</script", but escape it anyway before marking it safe.
        plotlyjs=Markup(get_plotlyjs().replace("</script", "<\\/script")),
    )


def write_page(html: str, path: str | os.PathLike) -> Path:
    """Write ``html`` to ``path`` atomically (see :mod:`crmine._atomic`).

    The parent folder is created when missing; on any error an existing file at ``path`` is
    left as it was.
    """
    return _atomic.write_text(path, html)
