"""``crmine run``: every analysis of a workspace, in dependency order, skipping what is up to date.

A step runs when its inputs changed since it last succeeded: the warehouse's data (the last load
and the identity resolution) or ``crmine.toml``. A step that fails is reported with its cause;
the steps that depend on it are skipped, and the others still run.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass

from crmine._progress import Progress
from crmine.errors import CrmineError
from crmine.predict._search import QUICK_CANDIDATES
from crmine.workspace import Workspace

__all__ = ["STEPS", "StepResult", "run"]

STATE_FILE = "run_state.json"


@dataclass(frozen=True)
class StepResult:
    """What one step did: ``status`` is ok, up to date, failed or skipped."""

    step: str
    status: str
    rows: int | None
    seconds: float
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


def _ingest(ws: Workspace) -> tuple[int, str]:
    results = ws.ingest.run()
    loaded = sum(r.loaded for r in results)
    return loaded, f"{loaded:,} rows loaded, {sum(r.quarantined for r in results):,} quarantined"


def _identity(ws: Workspace) -> tuple[int, str]:
    r = ws.identity.resolve()
    return r.unified_customers, f"{r.records:,} records -> {r.unified_customers:,} customers"


def _customers(ws: Workspace) -> tuple[int, str]:
    n = ws.customers.build()
    return n, f"customer table of {n:,}"


def _rfm(ws: Workspace) -> tuple[int, str]:
    r = ws.customers.rfm()
    return len(r.scores), f"{len(r.segments)} RFM segments"


def _segments(ws: Workspace) -> tuple[int, str]:
    seg = ws.segments.fit()
    return len(seg.labels_), f"{seg.k_} segments"


def _clv(ws: Workspace) -> tuple[int, str]:
    ws.clv.fit()
    scores = ws.clv.score()
    check = ws.clv.check()
    return len(scores), (f"12-month CLV total {scores.clv.sum():,.0f}; holdout MAE {check.loc['model', 'mae']:.2f} "
                         f"vs naive {check.loc['naive', 'mae']:.2f}")


def _churn(ws: Workspace) -> tuple[int, str]:
    search = ws.models.fit(candidates=QUICK_CANDIDATES)
    scores = ws.models.score()
    return len(scores), f"best {search.best_}, AUC {search.results_.loc[search.best_, 'roc_auc_mean']:.3f}"


def _drivers(ws: Workspace) -> tuple[int, str]:
    table = ws.models.drivers()
    return len(table), f"top: {', '.join(table.feature.head(3))}"


def _targets(ws: Workspace) -> tuple[int, str]:
    t = ws.models.target(top_n=1000)
    return t.selected, f"{t.selected:,} selected, {t.excluded_no_consent:,} left out for consent"


def _report(ws: Workspace) -> tuple[int | None, str]:
    return None, str(ws.report.build())


# (name, depends on, action). Order is a valid dependency order.
STEPS: tuple[tuple[str, tuple[str, ...], Callable[[Workspace], tuple[int | None, str]]], ...] = (
    ("ingest", (), _ingest),
    ("identity", ("ingest",), _identity),
    ("customers", ("identity",), _customers),
    ("rfm", ("customers",), _rfm),
    ("segments", ("customers",), _segments),
    ("clv", ("identity",), _clv),
    ("churn", ("identity",), _churn),
    ("drivers", ("identity",), _drivers),
    ("targets", ("churn", "clv"), _targets),
    # The report shows whatever is there, so it needs no step in particular; it comes last.
    ("report", (), _report),
)


def _inputs(ws: Workspace) -> str:
    """A fingerprint of everything a step reads: the settings and the loads so far."""
    log = ws.ingest.log()
    loads = log[["source", "fingerprint", "loaded"]].to_json() if len(log) else ""
    text = (ws.root / "crmine.toml").read_text(encoding="utf-8")
    return hashlib.sha256((text + loads).encode()).hexdigest()[:16]


def run(ws: Workspace, /, *, force: bool = False,
        progress: Progress | None = None) -> list[StepResult]:
    """Run every step whose inputs changed (all with ``force``); never raises for a failing step."""
    state_path = ws.root / "models" / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    results: dict[str, StepResult] = {}
    fingerprint: str | None = None
    for i, (name, deps, action) in enumerate(STEPS):
        if progress:
            progress(name, i, len(STEPS))
        failed = [d for d in deps if results[d].status in ("failed", "skipped")]
        if failed:
            results[name] = StepResult(name, "skipped", None, 0.0, f"needs {', '.join(failed)}")
            continue
        # Every later step reads the same inputs: fingerprint them once, after the ingest.
        fingerprint = None if name == "ingest" else (fingerprint or _inputs(ws))
        upstream = deps if deps or name != "report" else tuple(results)
        upstream_ran = any(results[d].status == "ok" and d != "ingest" for d in upstream)
        if not force and fingerprint is not None and not upstream_ran and state.get(name) == fingerprint:
            results[name] = StepResult(name, "up to date", None, 0.0, "inputs unchanged since the last run")
            continue
        started = time.perf_counter()
        try:
            rows, detail = action(ws)
        except CrmineError as e:
            results[name] = StepResult(name, "failed", None, time.perf_counter() - started, str(e).splitlines()[0])
            continue
        except Exception as e:  # a bug or an engine failure: name the step, keep the others going
            where = traceback.extract_tb(e.__traceback__)[-1]
            results[name] = StepResult(name, "failed", None, time.perf_counter() - started,
                                       f"{type(e).__name__}: {e} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
            continue
        results[name] = StepResult(name, "ok", rows, time.perf_counter() - started, detail)
        if name != "ingest":
            state[name] = fingerprint
    if progress:
        progress("done", len(STEPS), len(STEPS))
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps(state, indent=2))
    return list(results.values())
