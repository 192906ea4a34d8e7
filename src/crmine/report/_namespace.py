"""``ws.report``: build the workspace's HTML report."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from crmine.report._build import build_report

if TYPE_CHECKING:
    from crmine.workspace import Workspace

__all__ = ["ReportNamespace"]


class ReportNamespace:
    """The analysis report of a workspace (``build``)."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def build(self, path: str | os.PathLike | None = None) -> Path:
        """Write the report (default ``reports/report-YYYY-MM-DD.html``) and return its path."""
        return build_report(self._ws, path=path)
