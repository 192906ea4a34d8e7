"""``crmine run``: every analysis the data supports, in dependency order, skipping what is up to date.

A step runs when its inputs changed since it last succeeded: the warehouse's data (the last load
and the identity resolution) or ``crmine.toml``. Before it runs, a step checks that the warehouse
holds what it needs (tables with rows, columns with values, enough history); when it does not, the
step is ``skipped`` with the missing input and the fix, never ``failed``: a company that exports only
its sales gets every analysis its sales allow. A step that fails is reported with a one-line cause;
the steps that depend on a failed or skipped step are skipped, and the others still run.

A step whose saved output cannot be used (a model file that is empty or truncated, a customer table
without its as-of date) is stale whatever its inputs, and runs again; so does every step when the
record of the last run (``models/run_state.json``) cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import pandas as pd

from crmine import _atomic
from crmine._customers import resolved
from crmine._dates import after_day, known_at
from crmine._progress import Progress
from crmine.errors import CrmineError, WorkspaceError
from crmine.io import LOAD_LOG, QUARANTINE
from crmine.predict._search import QUICK_CANDIDATES
from crmine.workspace import Workspace

__all__ = ["STATUSES", "STEPS", "Inputs", "Step", "StepResult", "last_run", "run", "run_document"]

STATE_FILE = "run_state.json"
STATUSES = ("ok", "up to date", "skipped", "failed")
# The churn horizon of the run, passed to both churn steps so that their history check and their
# training frame agree (the library's default).
HORIZON_DAYS = 180
# ModelSearch cross-validates on 5 stratified folds; twice as many customers on each side of the
# horizon leaves every fold a few of each.
MIN_PER_SIDE = 10
# A BG/NBD and a Gamma-Gamma fit learn the repeat rate and the spend from repeat customers. On 20
# random draws of CDNOW-sample customers, the BG/NBD fit failed to converge on 7 draws of 40
# customers (14-26 repeat customers), 3 of 100 (41-57), 1 of 200 (90-108) and none of 400: below
# 50 repeat customers a failure says more about the data's size than about the model.
MIN_REPEAT = 50
# ws.clv.check() holds out the last 26 weeks; a calibration shorter than the holdout says little.
CLV_HOLDOUT_WEEKS = 26
# Customer columns that describe the person rather than the purchases (the drivers' material).
DEMOGRAPHICS = ("gender", "birth_date", "income", "region", "city", "country", "occupation", "education")


@dataclass(frozen=True)
class StepResult:
    """What one step did: ``status`` is one of :data:`STATUSES`."""

    step: str
    status: str
    rows: int | None
    seconds: float
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


def run_document(results: list[StepResult]) -> dict[str, list[dict[str, Any]]]:
    """The run as plain data, as ``crmine run DIR --json`` prints it.

    Examples
    --------
    >>> run_document([StepResult("rfm", "ok", 10, 0.123456, "3 RFM segments")])
    {'steps': [{'step': 'rfm', 'status': 'ok', 'rows': 10, 'seconds': 0.123, 'detail': '3 RFM segments'}]}
    """
    return {"steps": [{**r.to_dict(), "seconds": round(r.seconds, 3)} for r in results]}


# ---- what the warehouse holds ---------------------------------------------------------------------
class Inputs:
    """What the warehouse holds, as the steps' checks ask it; read lazily, each table once.

    Made after the ingest, the only step that writes the canonical tables, so the counts hold for
    the rest of the run.
    """

    def __init__(self, ws: Workspace) -> None:
        self._ws, self._wh = ws, ws.warehouse
        self._counts: dict[str, dict[str, int]] = {}
        self._memo: dict[Any, Any] = {}

    def _profile(self, table: str) -> dict[str, int]:
        if table not in self._counts:
            if not self._wh.has_table(table):
                self._counts[table] = {"": 0}
            else:
                t = self._wh.table(table)
                row = self._wh.execute(t.aggregate(_n=t.count(), **{c: t[c].count() for c in t.columns}),
                                       what=f"profile {table}").iloc[0]
                self._counts[table] = {"": int(row["_n"]), **{c: int(row[c]) for c in t.columns}}
        return self._counts[table]

    def rows(self, table: str) -> int:
        return self._profile(table)[""]

    def filled(self, table: str, column: str) -> bool:
        """Whether any row of ``table`` has a value in ``column``."""
        return self._profile(table).get(column, 0) > 0

    def table(self, table: str) -> str | None:
        """None when ``table`` has rows, else "needs <table>: <why it is empty>; <the fix>"."""
        return None if self.rows(table) else f"needs {table}: {self.why_empty(table)}"

    def why_empty(self, table: str, *, fix: bool = True) -> str:
        """Why ``table`` has no rows: no source for it, or what happened to its sources' rows; with
        ``fix``, what to do about it."""
        why, todo = self._why_empty(table)
        return f"{why}; {todo}" if fix else why

    def _why_empty(self, table: str) -> tuple[str, str]:
        settings = self._ws.settings
        names = [s.name for s in settings.sources if s.table == table]
        add = f'add a [sources.<name>] with table = "{table}"'
        if not names:
            if table in settings.inferred_tables():
                return (f"no source maps to {table}, and no loaded row names one to infer it from",
                        f'{add} (or one with table = "transactions")')
            return f"no source maps to {table}", add
        label = f"source{'s' if len(names) > 1 else ''} {', '.join(names)}"
        if not self._wh.has_table(LOAD_LOG):
            return f"{label} not loaded yet", "run `crmine ingest DIR`"
        log = self._wh.table(LOAD_LOG)
        log = log.filter(log.source.isin(names))
        log = self._wh.execute(log.aggregate(loads=log.count(), read=log.read.sum(),
                                             quarantined=log.quarantined.sum()), what="read load_log").iloc[0]
        if not int(log["loads"]):
            return f"{label} not loaded yet", "run `crmine ingest DIR` and read its errors"
        read, quarantined = int(log["read"] or 0), int(log["quarantined"] or 0)
        if not read:
            return f"{table} is empty: {label} held no rows", "check its path in crmine.toml"
        if quarantined == read:
            return (f"{table} is empty: all {read:,} rows of {label} were quarantined "
                    f"(reasons: {self._reasons(names)})", "see `crmine status` and ws.ingest.quarantine()")
        return f"{table} is empty although {label} loaded {read - quarantined:,} rows", "load it again"

    def _reasons(self, sources: list[str]) -> str:
        q = self._wh.table(QUARANTINE)
        q = q.filter(q.source.isin(sources))
        by = q.group_by("reason").aggregate(n=q.count()).order_by([ibis.desc("n"), "reason"])
        counts = self._wh.execute(by, what="read quarantine")
        return ", ".join(f"{r} {int(n):,}" for r, n in zip(counts.reason, counts.n, strict=True)) or "none recorded"

    # -- facts about the customers' purchases (after identity: unified customers, no guests) ----
    def _buys(self):
        tx = resolved(self._wh, "transactions")
        return tx.filter(~tx.is_return.fill_null(False))

    def purchase_days(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """First and last day on which a customer bought; the last day of all lines is 'today'."""
        if "days" not in self._memo:
            buys, tx = self._buys(), self._wh.table("transactions")
            from crmine._dates import EARLIEST, last_day

            first = self._wh.execute(buys.ts.min(where=buys.ts >= ibis.literal(pd.Timestamp(EARLIEST))),
                                     what="first purchase day")
            last = last_day(self._wh, tx) if self.rows("transactions") else None  # never an outlier
            self._memo["days"] = tuple(None if v is None or pd.isna(v) else pd.Timestamp(v).normalize()
                                       for v in (first, last))
        return self._memo["days"]

    def repeat_customers(self) -> tuple[int, int]:
        """(customers who bought, of whom bought on more than one day): a BTYD repeat purchase."""
        buys = self._buys()
        days = buys.select("customer_id", day=buys.ts.truncate("D")).distinct()
        per = days.group_by("customer_id").aggregate(days=days.count())
        row = self._wh.execute(per.aggregate(n=per.count(), repeat=(per.days >= 2).sum()),
                               what="repeat customers").iloc[0]
        return int(row["n"]), int(row["repeat"] or 0)

    def churn_sides(self, horizon_days: int) -> tuple[pd.Timestamp, int, int]:
        """(cutoff, customers who bought by it, of whom bought again after it), as churn trains."""
        key = ("sides", horizon_days)
        if key not in self._memo:
            _, last = self.purchase_days()
            cutoff = last - pd.Timedelta(days=horizon_days)
            # The point-in-time rule (crmine._dates.known_at), as ws.models trains: by the end of the cutoff day.
            buys = self._buys()
            before = buys.filter(known_at(buys.ts, cutoff)).select("customer_id").distinct()
            again = buys.filter(after_day(buys.ts, cutoff)).select(_again="customer_id").distinct()
            j = before.left_join(again, before.customer_id == again._again)
            row = self._wh.execute(j.aggregate(n=j.count(), stayed=j._again.count()), what="churn sides").iloc[0]
            self._memo[key] = (cutoff, int(row["n"]), int(row["stayed"]))
        return self._memo[key]


# ---- what each step needs -------------------------------------------------------------------------
def _nothing(inputs: Inputs) -> str | None:
    return None


def _first(*checks: Callable[[Inputs], str | None]) -> Callable[[Inputs], str | None]:
    """The first missing input among ``checks``, in order (later checks assume the earlier held)."""
    def check(inputs: Inputs) -> str | None:
        return next((why for c in checks if (why := c(inputs)) is not None), None)

    return check


def _table(name: str) -> Callable[[Inputs], str | None]:
    return lambda inputs: inputs.table(name)


def _segmentable(inputs: Inputs) -> str | None:
    from crmine.segment._segmenter import MIN_ROWS_PER_SEGMENT

    need, n = 2 * MIN_ROWS_PER_SEGMENT, inputs.rows("customers")
    if n >= need:
        return None
    return f"needs at least {need} customers to segment: {n:,} loaded; load more customers"


def _customer_lines(inputs: Inputs) -> str | None:
    if inputs.filled("transactions", "customer_id"):
        return None
    return ("needs transactions.customer_id: every loaded line is a guest purchase (no customer); map the "
            "customer column of the transactions source under [sources.<name>.columns]")


def _repeat_purchases(inputs: Inputs) -> str | None:
    customers, repeat = inputs.repeat_customers()
    if repeat >= MIN_REPEAT:
        return None
    return (f"needs repeat purchases: {repeat:,} of {customers:,} customers bought on more than one day; "
            f"a lifetime-value model learns from at least {MIN_REPEAT}; load more customers or a longer history")


def _history(inputs: Inputs) -> str | None:
    first, last = inputs.purchase_days()
    if first is None:
        return "needs purchases: every customer line is a return; load the sales as well"
    span = (last - first).days
    if span <= HORIZON_DAYS:
        return (f"needs history: customers' purchases span {span:,} days ({first:%Y-%m-%d} to {last:%Y-%m-%d}), "
                f"no longer than the churn horizon of {HORIZON_DAYS} days; load more than {HORIZON_DAYS} days")
    cutoff, n, stayed = inputs.churn_sides(HORIZON_DAYS)
    if min(stayed, n - stayed) >= MIN_PER_SIDE:
        return None
    return (f"needs customers on both sides of the horizon: of {n:,} who bought by {cutoff:%Y-%m-%d}, {stayed:,} "
            f"bought again in the {HORIZON_DAYS} days after and {n - stayed:,} did not; a churn model needs "
            f"at least {MIN_PER_SIDE} of each")


def _attributes(inputs: Inputs) -> str | None:
    # The drivers model leaves out the purchase rhythm (predict/_namespace.py HISTORY_COLUMNS); what
    # it can rank is the person, the service, the campaigns and the product and channel mix.
    if (any(inputs.filled("customers", c) for c in DEMOGRAPHICS) or inputs.rows("interactions")
            or inputs.rows("campaign_contacts")
            or any(inputs.filled("transactions", c) for c in ("channel", "sales_method"))
            or (inputs.filled("transactions", "product_id") and inputs.filled("products", "category"))):
        return None
    return ("needs attributes beyond purchase history: customers hold no " + ", ".join(DEMOGRAPHICS)
            + "; there are no interactions or campaign_contacts, and transactions have no channel, sales_method "
            'or product category; add a [sources.<name>] with table = "customers" and such columns')


_customers_with_sales = _first(_table("transactions"), _customer_lines)


# ---- what each step does --------------------------------------------------------------------------
def _ingest(ws: Workspace) -> tuple[int, str]:
    results = ws.ingest.run()
    loaded = sum(r.loaded for r in results)
    detail = f"{loaded:,} rows loaded, {sum(r.quarantined for r in results):,} quarantined"
    guests = sum(r.kept_apart.get("guest_lines", 0) for r in results)
    if guests:
        detail += f"; {guests:,} guest lines (no customer) left out of per-customer analyses"
    return loaded, detail


def _identity(ws: Workspace) -> tuple[int, str]:
    r = ws.identity.resolve()
    return r.unified_customers, r.note or f"{r.records:,} records -> {r.unified_customers:,} customers"


def _customers(ws: Workspace) -> tuple[int, str]:
    n = ws.customers.build()
    inputs = Inputs(ws)
    # The table is built whatever is missing; name the measures left empty and the table they need.
    without = [f"{what} ({inputs.why_empty(table, fix=False)})"
               for what, table in (("campaign measures", "campaign_contacts"), ("service measures", "interactions"))
               if not inputs.rows(table)]
    if not any(inputs.filled("customers", c) for c in DEMOGRAPHICS):
        without.insert(0, "demographics (no values in customers)")
    return n, f"customer table of {n:,}" + (f"; without {', '.join(without)}" if without else "")


def _rfm(ws: Workspace) -> tuple[int, str]:
    r = ws.customers.rfm()
    return len(r.scores), f"{len(r.segments)} RFM segments"


def _segments(ws: Workspace) -> tuple[int, str]:
    seg = ws.segments.fit()
    return len(seg.labels_), f"{seg.k_} segments"


def _clv(ws: Workspace) -> tuple[int, str]:
    ws.clv.fit()
    scores = ws.clv.score()
    detail = f"12-month CLV total {scores.clv.sum():,.0f}"
    first, last = Inputs(ws).purchase_days()
    weeks = (last - first).days // 7
    if weeks < 2 * CLV_HOLDOUT_WEEKS:
        return len(scores), (f"{detail}; holdout check left out: {weeks} weeks of history, it needs "
                             f"{2 * CLV_HOLDOUT_WEEKS}")
    try:
        check = ws.clv.check(holdout_weeks=CLV_HOLDOUT_WEEKS)
    except CrmineError as e:  # the scores stand; only their check could not be made
        return len(scores), f"{detail}; holdout check failed: {str(e).splitlines()[0]}"
    return len(scores), (f"{detail}; holdout MAE {check.loc['model', 'mae']:.2f} "
                         f"vs naive {check.loc['naive', 'mae']:.2f}")


def _churn(ws: Workspace) -> tuple[int, str]:
    search = ws.models.fit(candidates=QUICK_CANDIDATES, horizon_days=HORIZON_DAYS)
    scores = ws.models.score()
    return len(scores), f"best {search.best_}, AUC {search.results_.loc[search.best_, 'roc_auc_mean']:.3f}"


def _drivers(ws: Workspace) -> tuple[int, str]:
    table = ws.models.drivers(horizon_days=HORIZON_DAYS)
    return len(table), f"top: {', '.join(table.feature.head(3))}"


def _targets(ws: Workspace) -> tuple[int, str]:
    t = ws.models.target(top_n=1000)
    return t.selected, f"{t.selected:,} selected, {t.excluded_no_consent:,} left out for consent"


def _campaigns(ws: Workspace) -> tuple[int, str]:
    lift = ws.campaigns.lift_all()
    ws.warehouse.write("campaign_lift", lift)
    if lift.empty:
        return 0, "no campaign has contacts in both a treatment and a control group"
    binary = lift[lift["kind"] == "binary"]
    sure = int((binary["ci_low"] > 0).sum())
    return len(lift), (f"{lift['campaign_id'].nunique():,} campaigns measured; {sure:,} of {len(binary):,} "
                       "response lifts above zero at 95%")


def _report(ws: Workspace) -> tuple[int | None, str]:
    return None, str(ws.report.build())


# ---- whether what a step saved can still be used ------------------------------------------------
def _usable(*checks: Callable[[Workspace], Any]) -> Callable[[Workspace], str | None]:
    """None when every check passes, else the first one's error, on one line."""
    def made(ws: Workspace) -> str | None:
        for check in checks:
            try:
                check(ws)
            except CrmineError as e:
                return str(e).splitlines()[0]
        return None

    return made


def _nothing_made(ws: Workspace) -> str | None:
    return None


def _has(table: str) -> Callable[[Workspace], None]:
    def check(ws: Workspace) -> None:
        if not ws.warehouse.has_table(table):
            raise WorkspaceError(f"table {table} is missing")

    return check


@dataclass(frozen=True)
class Step:
    """One step of the run: the steps it ``depends`` on, the data it ``needs``, its ``action``.

    ``needs`` returns why the warehouse cannot support the step ("needs consents: no source maps
    to consents; ..."), or None; ``action`` returns (rows, detail); ``made`` returns why what the
    step saved last time cannot be used (then it runs again even if its inputs are unchanged), or None.
    """

    name: str
    depends: tuple[str, ...]
    action: Callable[[Workspace], tuple[int | None, str]]
    needs: Callable[[Inputs], str | None] = _nothing
    made: Callable[[Workspace], str | None] = _nothing_made


# Order is a valid dependency order.
STEPS: tuple[Step, ...] = (
    Step("ingest", (), _ingest),
    Step("identity", ("ingest",), _identity, _table("customers")),
    Step("customers", ("identity",), _customers, _customers_with_sales,
         _usable(lambda ws: ws.customers.as_of())),
    Step("rfm", ("customers",), _rfm),
    Step("segments", ("customers",), _segments, _segmentable),
    Step("clv", ("identity",), _clv, _first(_customers_with_sales, _repeat_purchases),
         _usable(lambda ws: ws.clv.load(), _has("clv_scores"))),
    Step("churn", ("identity",), _churn, _first(_customers_with_sales, _history),
         _usable(lambda ws: ws.models.load("churn"), _has("churn_scores"))),
    Step("drivers", ("identity",), _drivers, _first(_customers_with_sales, _attributes, _history)),
    Step("campaigns", ("identity",), _campaigns, _table("campaign_contacts")),
    Step("targets", ("churn", "clv"), _targets, _table("consents")),
    # The report shows whatever is there, so it needs no step in particular; it comes last.
    Step("report", (), _report),
)


# ---- the run --------------------------------------------------------------------------------------
def _inputs(ws: Workspace) -> str:
    """A fingerprint of everything a step reads: the settings and the loads so far."""
    log = ws.ingest.log()
    loads = log[["source", "fingerprint", "loaded"]].to_json() if len(log) else ""
    text = (ws.root / "crmine.toml").read_text(encoding="utf-8")
    return hashlib.sha256((text + loads).encode()).hexdigest()[:16]


def _cause(e: Exception) -> str:
    if isinstance(e, CrmineError):
        return str(e).splitlines()[0]
    # A bug or an engine failure: the type and where it happened, on one line.
    where = traceback.extract_tb(e.__traceback__)[-1]
    first = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {first} ({where.filename.rsplit('/', 1)[-1]}:{where.lineno})"


def last_run(ws: Workspace) -> list[dict[str, Any]] | None:
    """The results of the latest ``crmine run`` of ``ws`` as :func:`run_document` rows, or None.

    During a run, the steps done so far: the report step reads what was skipped and why.
    """
    last = _state(ws).get("last_run")
    return last if isinstance(last, list) else None


def _state(ws: Workspace) -> dict[str, Any]:
    """The record of the last run; an empty one when it is missing or cannot be read (then every
    step is stale and runs again, which rewrites it)."""
    try:
        state = json.loads((ws.root / "models" / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, unreadable, empty or truncated
        return {}
    return state if isinstance(state, dict) else {}


def run(ws: Workspace, /, *, force: bool = False, progress: Progress | None = None) -> list[StepResult]:
    """Run every step the data supports whose inputs changed (all with ``force``); never raises for a step."""
    state_path = ws.root / "models" / STATE_FILE
    state = _state(ws)
    results: dict[str, StepResult] = {}
    fingerprint: str | None = None
    inputs: Inputs | None = None

    def done(result: StepResult) -> None:
        results[result.step] = result
        if result.status in ("skipped", "failed"):
            state.pop(result.step, None)  # rerun once the data or the code allows it
        # Saved after every step: the report step reads the run so far, and an interrupted run
        # keeps what it finished.
        state["last_run"] = run_document(list(results.values()))["steps"]
        _atomic.write_text(state_path, json.dumps(state, indent=2))

    for i, step in enumerate(STEPS):
        if progress:
            progress(step.name, i, len(STEPS))
        missing = [d for d in step.depends if results[d].status in ("failed", "skipped")]
        if missing:
            done(StepResult(step.name, "skipped", None, 0.0, f"needs {', '.join(missing)}"))
            continue
        # Every later step reads the same inputs: fingerprint them once, after the ingest.
        fingerprint = None if step.name == "ingest" else (fingerprint or _inputs(ws))
        upstream = step.depends if step.depends or step.name != "report" else tuple(results)
        upstream_ran = any(results[d].status == "ok" and d != "ingest" for d in upstream)
        stale = None
        if not force and fingerprint is not None and not upstream_ran and state.get(step.name) == fingerprint:
            stale = step.made(ws)
            if stale is None:
                done(StepResult(step.name, "up to date", None, 0.0, "inputs unchanged since the last run"))
                continue
        started = time.perf_counter()
        try:
            if step.name != "ingest":
                inputs = inputs or Inputs(ws)
            why = step.needs(inputs) if inputs is not None else None
            if why is not None:
                done(StepResult(step.name, "skipped", None, time.perf_counter() - started, why))
                continue
            rows, detail = step.action(ws)
        except Exception as e:  # noqa: BLE001 - name the step, keep the others going
            done(StepResult(step.name, "failed", None, time.perf_counter() - started, _cause(e)))
            continue
        if step.name != "ingest":
            state[step.name] = fingerprint
        if stale is not None:
            detail = f"{detail} (ran again: {stale})"
        done(StepResult(step.name, "ok", rows, time.perf_counter() - started, detail))
    if progress:
        progress("done", len(STEPS), len(STEPS))
    return list(results.values())
