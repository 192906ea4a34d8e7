"""``ws.privacy``: erasure, access requests and the privacy log of one workspace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crmine.privacy._erase import ErasureResult
from crmine.settings import Settings
from crmine.warehouse import Warehouse

__all__ = ["PrivacyNamespace"]


class PrivacyNamespace:
    """Privacy operations: ``erase``, ``access`` (an access request), ``retain`` and ``log``."""

    def __init__(self, warehouse: Warehouse, settings: Settings, root: Path) -> None:
        self._wh, self._settings, self._root = warehouse, settings, Path(root)

    def erase(self, *, email: str | None = None, customer: str | None = None,
              by: str | None = None) -> ErasureResult:
        """Remove every row about one person and keep them from coming back (see :mod:`crmine.privacy`)."""
        from crmine.privacy._erase import erase

        return erase(self._wh, self._settings, self._root, email=email, customer=customer, by=by)

    def access(self, out: str | os.PathLike, *, email: str | None = None, customer: str | None = None,
               by: str | None = None) -> dict[str, int]:
        """Write everything held about one person to the JSON file ``out``; returns table -> rows."""
        from crmine.privacy._access import access

        return access(self._wh, self._settings, self._root, out, email=email, customer=customer, by=by)

    def retain(self, *, by: str | None = None) -> dict[str, int]:
        """Delete the rows older than ``[privacy.retention]`` allows; returns table -> rows deleted."""
        from crmine.privacy._retain import retain

        return retain(self._wh, self._settings, by=by)

    def log(self) -> list[dict[str, Any]]:
        """Every erasure, access request and export, oldest first, without personal values."""
        from crmine.privacy._log import read_log

        return read_log(self._wh)
