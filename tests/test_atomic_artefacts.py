"""Nothing half-written, nothing that bricks a workspace: every file crmine writes appears whole or
not at all (even under kill -9), a derived table and its recorded date change together, a damaged
artefact is stale (``run`` redoes its step, loading it says what to rerun), and every target list
gets its own file with its own audit row."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import crmine
import crmine.pipeline as pipeline
from crmine import _atomic
from crmine.cli import app
from crmine.datasets import simulate
from crmine.errors import ModelMismatchError, WorkspaceError
from crmine.predict import ModelSearch
from tests.conftest import ENGINES
from tests.features.fixtures import AS_OF, FILES, TOML


def _partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if _atomic._MARK in p.name)


def _child(script: str, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          capture_output=True, timeout=300)


# ---- the helper itself ----------------------------------------------------------------------------
def test_atomic_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path):
    target = _atomic.write_text(tmp_path / "sub" / "state.json", '{"v": 1}')
    with pytest.raises(OSError, match="disk full"), _atomic.replacing(target) as tmp:
        tmp.write_text('{"v": 2, "half')
        raise OSError("disk full")
    assert target.read_text() == '{"v": 1}'
    assert _partials(target.parent) == []
    assert _atomic.write_bytes(target, b'{"v": 3}').read_bytes() == b'{"v": 3}'


def test_atomic_temporary_file_keeps_the_extension(tmp_path):
    with _atomic.replacing(tmp_path / "model.joblib.gz") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".model.joblib.gz.partial-")
        assert tmp.suffix == ".gz"  # joblib and pandas infer a compression from it
        tmp.write_bytes(b"x")


def test_atomic_creating_never_overwrites(tmp_path):
    target = tmp_path / "list.csv"
    with _atomic.creating(target) as tmp:
        tmp.write_text("first")
    with pytest.raises(FileExistsError), _atomic.creating(target) as tmp:
        tmp.write_text("second")
    assert target.read_text() == "first" and _partials(tmp_path) == []


def test_atomic_write_sweeps_temporaries_of_writers_that_died(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    left = tmp_path / f".run_state.json{_atomic._MARK}{dead}-0badf00d.json"
    left.write_text('{"tru')
    other = tmp_path / f".other.json{_atomic._MARK}{dead}-0badf00d.json"  # another target's: kept
    other.write_text("{")
    _atomic.write_text(tmp_path / "run_state.json", "{}")
    assert not left.exists() and other.exists()


# ---- kill -9 while a model is saved ---------------------------------------------------------------
def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "x": x, "z": rng.normal(size=n),
                         "y": np.where(rng.random(n) < 1 / (1 + np.exp(-2 * x)), "yes", "no")})


@pytest.fixture(scope="module")
def searches(tmp_path_factory):
    """Two different fitted searches saved in a folder: (old path, new path)."""
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for seed in (0, 1):
        search = ModelSearch(target="y", id_column="customer_id", candidates=("logistic",), cv=3, seed=seed)
        search.fit(_frame(seed=seed)).save(folder / f"search{seed}.joblib")
        paths.append(folder / f"search{seed}.joblib")
    return paths


# Runs in a child: save the model in argv[3] over argv[1], dying by SIGKILL at the point argv[2].
_SAVE_CHILD = """
    import os, signal, sys
    import joblib
    from crmine import _atomic
    from crmine.predict import ModelSearch

    target, where, source = sys.argv[1:4]
    search = ModelSearch.load(source)

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if where == "before the rename":
        _atomic._rename = die
    else:  # half way through writing the file
        dump = joblib.dump

        def half(doc, path, **kwargs):
            dump(doc, path, **kwargs)
            data = open(path, "rb").read()
            open(path, "wb").write(data[: len(data) // 2])
            die()

        joblib.dump = half
    search.save(target)
"""


@pytest.mark.parametrize("where", ["half way through the file", "before the rename"])
def test_kill_9_while_saving_a_model_leaves_the_previous_model(searches, tmp_path, where):
    old, new = searches
    target = tmp_path / "churn.joblib"
    target.write_bytes(old.read_bytes())
    proc = _child(_SAVE_CHILD, target, where, new)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert target.read_bytes() == old.read_bytes()
    assert ModelSearch.load(target).results_.equals(ModelSearch.load(old).results_)
    assert len(_partials(tmp_path)) == 1  # the dead writer's, hidden beside the target ...
    ModelSearch.load(new).save(target)
    assert _partials(tmp_path) == []  # ... and swept by the next save
    assert ModelSearch.load(target).results_.equals(ModelSearch.load(new).results_)


def test_kill_9_during_the_first_save_leaves_no_model(searches, tmp_path):
    target = tmp_path / "churn.joblib"
    proc = _child(_SAVE_CHILD, target, "before the rename", searches[1])
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert not target.exists()


# Runs in a child: save the two models in turn, again and again, until killed.
_LOOP_CHILD = """
    import sys
    from crmine.predict import ModelSearch

    target = sys.argv[1]
    searches = [ModelSearch.load(p) for p in sys.argv[2:4]]
    searches[0].save(target)
    print("saved", flush=True)
    i = 0
    while True:
        i += 1
        searches[i % 2].save(target)
"""


def test_kill_9_at_seeded_random_moments_never_leaves_a_partial_model(searches, tmp_path):
    target = tmp_path / "churn.joblib"
    results = [ModelSearch.load(p).results_ for p in searches]
    rng = np.random.default_rng(11)
    for delay in rng.uniform(0.0, 0.3, size=3):
        proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_LOOP_CHILD), str(target),
                                 *map(str, searches)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            assert proc.stdout.readline().strip() == b"saved", proc.stderr.read().decode()[-2000:]
            time.sleep(delay)
        finally:
            proc.kill()  # SIGKILL
            proc.wait(timeout=60)
        saved = ModelSearch.load(target)  # whole: one of the two, never a mixture or a part
        assert any(saved.results_.equals(r) for r in results)


# ---- reading a damaged model ----------------------------------------------------------------------
def test_loading_an_empty_or_truncated_model_file_says_so(searches, tmp_path):
    empty, cut = tmp_path / "empty.joblib", tmp_path / "cut.joblib"
    empty.write_bytes(b"")
    cut.write_bytes(searches[0].read_bytes()[:200])
    with pytest.raises(ModelMismatchError, match=r"empty\.joblib is empty \(0 bytes\).*Fit the model and save"):
        ModelSearch.load(empty)
    with pytest.raises(ModelMismatchError, match=r"cut\.joblib cannot be read \(\w+\): it is truncated"):
        ModelSearch.load(cut)


def test_loading_a_truncated_clv_model_file_says_so(tmp_path):
    from crmine.clv import BetaGeo

    path = tmp_path / "clv_purchases.json"
    path.write_text('{"format": "crmine.clv.mo')
    with pytest.raises(ModelMismatchError, match=r"clv_purchases\.json is not readable JSON"):
        BetaGeo.load(path)


# ---- kill -9 while the customer table is built ---------------------------------------------------
# Runs in a child: build the customer table as of argv[2], dying by SIGKILL at the write of argv[3].
_BUILD_CHILD = """
    import os, signal, sys
    import crmine
    from crmine.warehouse import Warehouse

    root, day, table = sys.argv[1:4]
    write = Warehouse.write

    def dying(self, name, obj, **kwargs):
        if name == table:
            if table == "customer_table_info":  # the new table is written by now
                assert self.has_table("customer_table")
            os.kill(os.getpid(), signal.SIGKILL)
        return write(self, name, obj, **kwargs)

    Warehouse.write = dying
    crmine.open(root).customers.build(as_of=day)
"""


@pytest.mark.parametrize("dies_at", ["customer_table", "customer_table_info"])
def test_kill_9_while_building_the_customer_table_keeps_table_and_date_together(make_workspace, dies_at):
    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run()
    assert ws.customers.build(as_of=AS_OF) == 3
    before = ws.customers.list()
    ws.close()

    proc = _child(_BUILD_CHILD, ws.root, "2024-01-10", dies_at)  # as of that day: 2 customers
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    again = crmine.open(ws.root)
    assert again.customers.as_of() == pd.Timestamp(AS_OF)
    pd.testing.assert_frame_equal(again.customers.list(), before)
    assert not [t for t in again.warehouse.con.list_tables() if t.startswith(("_", "ibis_"))]
    assert again.customers.build(as_of="2024-01-10") == 2 and again.customers.as_of() == pd.Timestamp("2024-01-10")
    again.close()


def test_a_build_that_dies_without_a_transaction_leaves_a_table_without_a_date(make_workspace, monkeypatch):
    # Engines without transactions (Spark): the old date goes first, so the reader sees the gap.
    from crmine.warehouse import Warehouse

    ws = crmine.init(make_workspace(TOML, FILES))
    ws.ingest.run()
    ws.customers.build(as_of=AS_OF)
    write = Warehouse.write

    def dying(self, name, obj, **kwargs):
        if name == "customer_table_info":
            raise KeyboardInterrupt
        return write(self, name, obj, **kwargs)

    monkeypatch.setattr(Warehouse, "transaction", lambda self: contextlib.nullcontext())
    monkeypatch.setattr(Warehouse, "write", dying)
    with pytest.raises(KeyboardInterrupt):
        ws.customers.build(as_of="2024-01-10")
    with pytest.raises(WorkspaceError, match=r"no recorded as-of day .* Run `crmine customers build DIR` again"):
        ws.customers.as_of()
    customers_step = next(s for s in pipeline.STEPS if s.name == "customers")
    assert "no recorded as-of day" in customers_step.made(ws)
    ws.close()


# ---- derived tables -------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_a_table_write_that_fails_leaves_the_old_table_and_no_scraps(tmp_path, engine):
    import ibis

    from crmine.errors import EngineError
    from crmine.warehouse import connect

    wh = connect(tmp_path / ("wh.duckdb" if engine == "duckdb" else "spark-wh"), engine=engine)
    try:
        wh.write("t", pd.DataFrame({"a": [1, 2, 3]}))
        bad = wh.table("t").mutate(a=ibis.literal("not a number").cast("int64"))  # fails as it runs
        with pytest.raises(EngineError, match="failed to write t"):
            wh.write("t", bad)
        assert sorted(wh.execute(wh.table("t")).a) == [1, 2, 3]
        # Nothing but the table (and the session's views of local frames): no half-made copy.
        views = ("ibis_pyarrow_memtable_", "ibis_pandas_memtable_", "_crmine_frame_")
        assert [t for t in wh.con.list_tables() if not t.startswith(views)] == ["t"]
        wh.write("t", wh.table("t").mutate(a=wh.table("t").a * 10))  # a table replaced from itself
        assert sorted(wh.execute(wh.table("t")).a) == [10, 20, 30]
    finally:
        with contextlib.suppress(Exception):
            wh.drop("t")
        wh.close()


# ---- run_state.json -------------------------------------------------------------------------------
def test_a_truncated_run_state_makes_every_step_run_again(tmp_path, monkeypatch):
    ws = crmine.init(tmp_path / "ws")
    calls: list[str] = []

    def step(name, *depends):
        return pipeline.Step(name, depends, lambda w: (calls.append(name), (1, f"{name} done"))[1])

    monkeypatch.setattr(pipeline, "STEPS", (step("ingest"), step("alpha"), step("beta", "alpha")))
    pipeline.run(ws)
    assert {r.step: r.status for r in pipeline.run(ws)} == {"ingest": "ok", "alpha": "up to date",
                                                           "beta": "up to date"}
    state = ws.root / "models" / pipeline.STATE_FILE
    state.write_text(state.read_text()[:25])
    assert pipeline.last_run(ws) is None
    calls.clear()
    assert {r.status for r in pipeline.run(ws)} == {"ok"} and calls == ["ingest", "alpha", "beta"]
    assert json.loads(state.read_text())["alpha"] and _partials(state.parent) == []
    state.write_text("")
    assert {r.status for r in pipeline.run(ws)} == {"ok"}
    ws.close()


# ---- a workspace after a run: damaged models, target lists, lookalikes ---------------------------
RUN_STEPS = ("ingest", "identity", "customers", "clv", "churn")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    root = tmp_path_factory.mktemp("ran")
    simulate(800, seed=2, out_dir=root)
    ws = crmine.init(root)
    steps = tuple(s for s in pipeline.STEPS if s.name in RUN_STEPS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "STEPS", steps)
        assert {r.status for r in pipeline.run(ws)} == {"ok"}
    yield ws
    ws.close()


@pytest.fixture
def run_again(ran, monkeypatch):
    monkeypatch.setattr(pipeline, "STEPS", tuple(s for s in pipeline.STEPS if s.name in RUN_STEPS))
    return lambda: {r.step: r for r in pipeline.run(ran)}


def test_an_empty_churn_model_gives_one_clear_error_and_run_fits_it_again(ran, run_again):
    path = ran.root / "models" / "churn.joblib"
    path.write_bytes(b"")
    with pytest.raises(ModelMismatchError, match=r"churn\.joblib is empty \(0 bytes\).*`crmine model fit "):
        ran.models.score()
    out = CliRunner().invoke(app, ["model", "score", str(ran.root)])
    assert isinstance(out.exception, ModelMismatchError) and "\n" not in str(out.exception)
    results = run_again()
    assert results["churn"].status == "ok" and "ran again" in results["churn"].detail
    assert {results[s].status for s in ("identity", "customers", "clv")} == {"up to date"}
    assert path.stat().st_size > 0 and ran.models.load().best_
    assert run_again()["churn"].status == "up to date"


def test_a_truncated_clv_file_is_stale_and_run_fits_it_again(ran, run_again):
    path = ran.root / "models" / "clv_purchases.json"
    path.write_text(path.read_text()[:100])
    with pytest.raises(ModelMismatchError, match=r"clv_purchases\.json does not match the fit .*`crmine clv fit "):
        ran.clv.score()
    meta = ran.root / "models" / "clv_meta.json"
    good = meta.read_text()
    meta.write_text(good[:10])
    with pytest.raises(ModelMismatchError, match=r"clv_meta\.json is not readable JSON"):
        ran.clv.load()
    results = run_again()
    assert results["clv"].status == "ok" and "ran again" in results["clv"].detail
    assert results["churn"].status == "up to date"
    purchases, spend = ran.clv.load()
    assert purchases.params_ and spend.params_


def test_a_customer_table_without_its_date_is_built_again(ran, run_again):
    ran.warehouse.drop("customer_table_info")
    results = run_again()
    assert results["customers"].status == "ok" and "no recorded as-of day" in results["customers"].detail
    assert ran.customers.as_of() == pd.Timestamp(ran.warehouse.execute(ran.table("transactions").ts.max())).normalize()


def test_two_target_lists_in_the_same_moment_get_two_files_and_two_audit_rows(ran, monkeypatch):
    import crmine.predict._namespace as namespace

    real_now = namespace.datetime.now
    fixed = real_now(namespace.UTC)

    class Frozen(namespace.datetime):  # both lists are made in the same microsecond
        @classmethod
        def now(cls, tz=None):
            return fixed

    # The audit row is there (and names the file) before the file appears.
    creating, checked = _atomic.creating, []

    @contextlib.contextmanager
    def watched(path):
        audit = ran.warehouse.execute(ran.table("export_audit"))
        checked.append(str(Path(path).relative_to(ran.root)) in set(audit.file) and not Path(path).exists())
        with creating(path) as tmp:
            yield tmp

    monkeypatch.setattr(namespace, "datetime", Frozen)
    monkeypatch.setattr(_atomic, "creating", watched)
    before = ran.warehouse.count("export_audit") if ran.warehouse.has_table("export_audit") else 0
    first = ran.models.target(margin=50.0, top_n=30)
    second = ran.models.target(margin=50.0, top_n=10)
    audit = ran.warehouse.execute(ran.table("export_audit")).iloc[before:]
    assert checked == [True, True]
    assert len(audit) == 2 and audit.file.nunique() == 2
    assert audit.file.iloc[1] == audit.file.iloc[0].replace(".csv", "-2.csv")
    lists = [pd.read_csv(ran.root / f) for f in audit.file]
    assert [len(x) for x in lists] == [first.selected, second.selected] == [30, 10]
    assert lists[0].customer_id.tolist() == first.customers.customer_id.tolist()


def test_two_target_lists_one_after_the_other_get_two_files(ran):
    a = ran.models.target(margin=50.0, top_n=5)
    b = ran.models.target(margin=50.0, top_n=5)
    audit = ran.warehouse.execute(ran.table("export_audit")).tail(2)
    assert audit.file.nunique() == 2 and a.selected == b.selected == 5
    assert all((ran.root / f).is_file() for f in audit.file)


def test_lookalike_seed_may_name_customer_id(ran):
    ids = ran.customers.list(columns=["customer_id"]).customer_id.head(40).tolist()
    condition = "customer_id in (" + ", ".join(f"'{i}'" for i in ids) + ")"
    look = ran.models.lookalike(condition, top_n=25)
    assert len(look) == 25 and not set(look.customer_id) & set(ids)
    # With another column too: that column, not the identifier, is left out of the resemblance.
    mixed = ran.models.lookalike(f"{condition} or spend > 2000", top_n=5)
    assert len(mixed) == 5


def test_damaged_files_never_fail_the_whole_step_list(ran, run_again):
    # Both damaged at once: each step that wrote one runs again, and nothing else fails.
    (ran.root / "models" / "churn.joblib").write_bytes(b"\x80\x04")
    (ran.root / "models" / "clv_spend.json").write_text("")
    results = run_again()
    assert {r.status for r in results.values()} <= {"ok", "up to date"}
    assert results["clv"].status == results["churn"].status == "ok"
