"""What the last ``crmine run`` left out of the report, and why.

A section whose step the last run skipped (the data cannot support it) or failed is left out, even
when an earlier run left its table behind: stale numbers beside fresh ones would mislead. The
"Left out of this report" section lists those steps with the reason the run gave. Without a run
(``crmine report`` on its own), every section whose tables hold rows is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from crmine.report._page import Section

if TYPE_CHECKING:
    from crmine.workspace import Workspace

__all__ = ["hidden", "left_out", "run_steps"]

_NOT_RUN = ("skipped", "failed")


def run_steps(ws: Workspace) -> dict[str, dict[str, Any]] | None:
    """The last run's result of each step, by step name; None when the workspace was never run."""
    from crmine.pipeline import last_run  # the pipeline records the run; the report only reads it

    rows = last_run(ws)
    return None if rows is None else {r["step"]: r for r in rows}


def hidden(steps: dict[str, dict[str, Any]] | None) -> frozenset[str]:
    """The steps whose sections stay out: skipped or failed in the last run."""
    return frozenset(name for name, r in (steps or {}).items() if r["status"] in _NOT_RUN)


def left_out(steps: dict[str, dict[str, Any]] | None, broken: list[tuple[str, str]]) -> Section | None:
    """A section listing the skipped and failed steps with their reasons, and the sections that
    could not be drawn; None when nothing was left out."""
    rows = [(name, r["status"], r["detail"]) for name, r in (steps or {}).items()
            if r["status"] in _NOT_RUN and name != "report"]
    rows += [(f"section {sid}", "not drawn", cause) for sid, cause in broken]
    if not rows:
        return None
    s = Section("leftout", "Left out of this report",
                "Analyses that the last `crmine run` skipped for lack of data, or that failed, with what "
                "each needs; add the missing input to crmine.toml and run again to see them here.")
    s.table(pd.DataFrame(rows, columns=["analysis", "status", "why"]))
    return s
