"""The analysis report: one self-contained, offline HTML file built from what the warehouse holds.

:func:`build_report` reads the tables earlier steps wrote (it recomputes no model) and skips a
section whose table is missing; ``ReportNamespace`` is the ``ws.report`` face of it.
"""

from crmine.report._build import build_report
from crmine.report._namespace import ReportNamespace

__all__ = ["ReportNamespace", "build_report"]
