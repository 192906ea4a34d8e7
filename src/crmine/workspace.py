"""The workspace: a folder holding ``crmine.toml``, the warehouse and what analyses produce.

``crmine.open(path)`` returns a :class:`Workspace`, the one object an analyst works with; its
namespaces (``ws.ingest``, ``ws.identity``, ...) each do one job and receive what they need
explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from crmine import _atomic
from crmine._progress import Progress
from crmine.errors import WorkspaceError
from crmine.io import LOAD_LOG, QUARANTINE, LoadResult, create_tables, ingest
from crmine.schema import TABLES
from crmine.settings import Settings
from crmine.warehouse import Warehouse, connect

__all__ = ["SETTINGS_FILE", "Workspace", "init", "open"]

SETTINGS_FILE = "crmine.toml"
WAREHOUSE_FILE = "warehouse.duckdb"
FOLDERS = ("models", "reports", "exports")



def init(path: str | os.PathLike, *, settings_text: str | None = None) -> Workspace:
    """Create a workspace at ``path``: a commented ``crmine.toml``, an empty warehouse, folders.

    An existing ``crmine.toml`` is kept; running ``init`` twice is harmless.

    Examples
    --------
    >>> import tempfile, crmine
    >>> ws = crmine.init(tempfile.mkdtemp())
    >>> ws.status()["tables"]["customers"]
    0
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    toml = root / SETTINGS_FILE
    if not toml.exists():
        text = settings_text or resources.files("crmine").joinpath("workspace_template.toml").read_text()
        _atomic.write_text(toml, text)  # a half-written crmine.toml would brick the workspace
    for folder in FOLDERS:
        (root / folder).mkdir(exist_ok=True)
    ws = open(root)
    create_tables(ws.warehouse)
    return ws


def open(path: str | os.PathLike) -> Workspace:  # noqa: A001 - the package's one entry point
    """Open the workspace at ``path`` (a folder with a ``crmine.toml``)."""
    root = Path(path)
    if not (root / SETTINGS_FILE).is_file():
        raise WorkspaceError(
            f"{root} is not a crmine workspace (no {SETTINGS_FILE}). Create one with `crmine init {root}`."
        )
    return Workspace(root)


class Workspace:
    """A crmine workspace folder.

    Parameters
    ----------
    root
        The folder holding ``crmine.toml``.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.settings = Settings.from_path(self.root / SETTINGS_FILE)

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r}, engine={self.settings.engine!r})"

    @cached_property
    def warehouse(self) -> Warehouse:
        if self.settings.engine == "duckdb":
            return connect(self.root / WAREHOUSE_FILE, engine="duckdb")
        return connect(self.root, engine="spark")

    def table(self, name: str) -> ibis.Table:
        """A warehouse table as an Ibis expression."""
        return self.warehouse.table(name)

    @cached_property
    def ingest(self) -> IngestNamespace:
        return IngestNamespace(self.warehouse, self.settings, self.root)

    @cached_property
    def identity(self) -> IdentityNamespace:
        return IdentityNamespace(self.warehouse, self.settings)

    @cached_property
    def customers(self):
        """The customer table and questions over it: ``build``, ``count``, ``list``, ``crosstab``,
        ``rfm``, ``rfm_transitions``, ``behaviours``."""
        from crmine.features._namespace import CustomersNamespace

        return CustomersNamespace(self.warehouse, self.settings.analysis, self.root)

    @cached_property
    def segments(self):
        """Clustering segmentation (``fit``, ``segments``, ``profiles``) and ``key_customers``."""
        from crmine.segment._namespace import SegmentsNamespace

        return SegmentsNamespace(self.warehouse)

    @cached_property
    def loyalty(self):
        """Cohort retention, activity survival and loyalty scores."""
        from crmine.loyalty._namespace import LoyaltyNamespace

        return LoyaltyNamespace(self.warehouse)

    @cached_property
    def models(self):
        """Churn models without look-ahead: ``fit``, ``score``, ``target`` (consented lists)."""
        from crmine.predict._namespace import ModelsNamespace

        return ModelsNamespace(self.warehouse, self.root)

    @cached_property
    def campaigns(self):
        """Campaign lift against control groups: ``lift(campaign_id)``, ``lift_all()``."""
        from crmine.campaign._namespace import CampaignsNamespace

        return CampaignsNamespace(self.warehouse, self.root)

    @cached_property
    def service(self):
        """Service contacts: ``kpis``, ``who``, and agent effects (``agents``, ``teams``)."""
        from crmine.service._namespace import ServiceNamespace

        return ServiceNamespace(self.warehouse)

    @cached_property
    def privacy(self):
        """Erasure, access requests and the privacy log: ``erase``, ``access``, ``log``."""
        from crmine.privacy._namespace import PrivacyNamespace

        return PrivacyNamespace(self.warehouse, self.settings, self.root)

    @cached_property
    def report(self):
        """The HTML report, rendered from the warehouse without recomputing: ``build``."""
        from crmine.report import ReportNamespace

        return ReportNamespace(self)

    @cached_property
    def clv(self):
        """Lifetime value: ``fit``, ``score``, ``summary`` (see :mod:`crmine.clv`)."""
        from crmine.clv._namespace import ClvNamespace

        return ClvNamespace(self.warehouse, self.root / "models")

    def status(self) -> dict[str, Any]:
        """Row counts of every table and the load log, as plain data."""
        wh = self.warehouse
        tables = {name: (wh.count(name) if wh.has_table(name) else 0) for name in TABLES}
        from crmine.warehouse._registry import derived

        for extra in derived():  # every table a step wrote, by the registry
            if extra.name not in ("load_log", "customer_table_info") and wh.has_table(extra.name):
                tables[extra.name] = wh.count(extra.name)
        loads = []
        if wh.has_table(LOAD_LOG):
            log = wh.execute(wh.table(LOAD_LOG).order_by("load_id"), what="read load_log")
            loads = [
                {"source": r.source, "file": r.file, "read": int(r.read), "loaded": int(r.loaded),
                 "quarantined": int(r.quarantined)}
                for r in log.itertuples()
            ]
        return {"tables": tables, "loads": loads}

    def dictionary(self) -> pd.DataFrame:
        """The data dictionary: every canonical table and column with its type, rule and meaning."""
        from crmine._dictionary import dictionary

        return dictionary()

    def close(self) -> None:
        if "warehouse" in self.__dict__:
            self.warehouse.close()
            del self.__dict__["warehouse"]

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class IngestNamespace:
    """Loading sources: ``run`` them, read the ``log`` and the ``quarantine``."""

    def __init__(self, warehouse: Warehouse, settings: Settings, root: Path) -> None:
        self._wh, self._settings, self._root = warehouse, settings, root

    def run(self, *, sources: Iterable[str] | None = None, progress: Progress | None = None) -> list[LoadResult]:
        """Load the sources named in crmine.toml (all by default); unchanged ones are skipped."""
        return ingest(self._wh, self._settings, self._root, sources=sources, progress=progress)

    def log(self) -> pd.DataFrame:
        create_tables(self._wh)
        return self._wh.execute(self._wh.table(LOAD_LOG).order_by("load_id"), what="read load_log")

    def quarantine(self, *, source: str | None = None, reason: str | None = None) -> pd.DataFrame:
        create_tables(self._wh)
        q = self._wh.table(QUARANTINE)
        if source is not None:
            q = q.filter(q.source == source)
        if reason is not None:
            q = q.filter(q.reason == reason)
        return self._wh.execute(q.order_by(["load_id", "line"]), what="read quarantine")


class IdentityNamespace:
    """Resolving duplicate customer records across sources into one customer each."""

    def __init__(self, warehouse: Warehouse, settings: Settings) -> None:
        self._wh, self._settings = warehouse, settings

    def resolve(self, *, threshold: float | None = None, progress: Progress | None = None):
        """Link records of the same person; writes ``customer_lineage``."""
        from crmine.identity import resolve

        cfg = self._settings.identity
        return resolve(self._wh, threshold=threshold or cfg.threshold, seed=cfg.seed, progress=progress)

    def lineage(self) -> pd.DataFrame:
        return self._wh.execute(self._wh.table("customer_lineage"), what="read customer_lineage")
