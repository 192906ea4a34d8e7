"""The analysis report and the model card: self-contained, offline HTML files.

:func:`build_report` reads the tables earlier steps wrote (it recomputes no model) and skips a
section whose table is missing; ``ReportNamespace`` is the ``ws.report`` face of it.
:func:`build_model_card` shows how a fitted ``ModelSearch`` compared its candidates.
"""

from crmine.report._build import build_report
from crmine.report._card import build_model_card
from crmine.report._namespace import ReportNamespace

__all__ = ["ReportNamespace", "build_model_card", "build_report"]
