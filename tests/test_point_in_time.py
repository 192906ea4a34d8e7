"""One point-in-time rule: what a reader computes as of a day never depends on what came after it.

An event counts as of day D when its time is before the end of D (``crmine._dates.known_at``); an
event without a time never counts. The workspace is simulated once; every test copies its tables
into a fresh warehouse on the engine under test, computes the as-of readers, adds rows after the
cutoff (and rows without a time) to every dated table, and computes them again.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import crmine
from crmine._dates import after_day, end_of_day, known_at
from crmine.behaviour import behaviour_counts
from crmine.clv._namespace import ClvNamespace
from crmine.datasets import simulate
from crmine.features import customer_table
from crmine.loyalty import loyalty_scores
from crmine.loyalty._purchases import purchases
from crmine.warehouse import connect
from tests.conftest import ENGINES

CUTOFF = pd.Timestamp("2024-06-30")
TABLES = (
    "customers", "products", "transactions", "promotions", "campaigns", "campaign_contacts",
    "campaign_responses", "interactions", "feedback", "consents", "employees", "customer_lineage",
)
DATED = {  # every dated canonical table and its time columns
    "customers": ("signup_date",), "transactions": ("ts",), "promotions": ("start", "end"),
    "campaigns": ("start", "end"), "campaign_contacts": ("ts",), "campaign_responses": ("ts",),
    "interactions": ("ts",), "feedback": ("ts",), "consents": ("ts",),
}
BEHAVIOURS = {"web": "channel == 'web'", "big": "amount > 50"}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """The canonical tables of a small simulated workspace (ingested, identities resolved)."""
    root = tmp_path_factory.mktemp("pit")
    simulate(150, seed=11, out_dir=root, bad_rows=False)
    ws = crmine.init(root)
    ws.ingest.run()
    ws.identity.resolve()
    tables = {name: ws.warehouse.to_pyarrow(ws.table(name)) for name in TABLES}
    ws.close()
    return tables


@pytest.fixture
def wh(simulated, engine, tmp_path):
    """A fresh warehouse on ``engine`` holding a copy of the simulated tables."""
    w = connect(tmp_path / ("w.duckdb" if engine == "duckdb" else "spark"), engine=engine)
    for name, data in simulated.items():
        w.write(name, data)
    yield w
    w.close()


def _as_of(wh, tmp_path, day=CUTOFF) -> dict[str, pd.DataFrame]:
    """Every as-of reader's answer, sorted by its key."""
    tx, _ = purchases(wh, day)

    def run(expr, by):
        return wh.execute(expr).sort_values(by, ignore_index=True)

    return {
        "customer_table": run(customer_table(wh, as_of=day), ["customer_id"]),
        "rfm": ClvNamespace(wh, tmp_path).summary(observation_end=day).sort_values("customer_id", ignore_index=True),
        "purchases": run(tx, ["order_id", "line_no"]),
        "loyalty_scores": loyalty_scores(wh, as_of=day).sort_values("customer_id", ignore_index=True),
        "behaviours": run(behaviour_counts(wh, BEHAVIOURS, as_of=day), ["customer_id"]),
    }


def _rows(wh, name: str, n: int, **values) -> pa.Table:
    """``n`` rows shaped like table ``name`` (copies of its first rows) with ``values`` set."""
    t = wh.table(name)
    frame = wh.execute(t.order_by(t.columns[0]).limit(n)).reset_index(drop=True)
    for col, v in values.items():
        frame[col] = v
    return pa.Table.from_pandas(frame, schema=wh.to_pyarrow(t.limit(0)).schema, preserve_index=False)


def _times(n: int) -> list:
    """After the cutoff (from its very end on) and without a time, in turn."""
    later = [end_of_day(CUTOFF), end_of_day(CUTOFF) + pd.Timedelta(days=40), None]
    return [later[i % 3] for i in range(n)]


def _future(wh) -> dict[str, pa.Table]:
    """Rows after the cutoff, or without a time, for every dated table; ids new, customers known."""
    customers = sorted(wh.execute(wh.table("customers").customer_id).tolist())[:6]
    contacted = wh.table("campaign_contacts")
    contacted = contacted.filter((contacted.group == "treatment") & known_at(contacted.ts, CUTOFF))
    pairs = wh.execute(contacted.select("campaign_id", "customer_id").distinct().order_by("customer_id").limit(6))
    n, ids = 6, [f"PIT{i}" for i in range(6)]
    return {
        "customers": _rows(wh, "customers", 3, customer_id=ids[:3], signup_date=_times(3)[:2] + [CUTOFF + pd.Timedelta(days=3)]),
        "transactions": _rows(wh, "transactions", n, order_id=ids, line_no=1, customer_id=customers, ts=_times(n),
                              amount=500.0, is_return=[False, True] * 3, channel="web"),
        "promotions": _rows(wh, "promotions", 3, promotion_id=ids[:3], start=_times(3), end=None),
        "campaigns": _rows(wh, "campaigns", 3, campaign_id=ids[:3], start=_times(3), end=None),
        "campaign_contacts": _rows(wh, "campaign_contacts", n, campaign_id="PIT0", customer_id=customers,
                                   group="treatment", ts=_times(n)),
        "campaign_responses": _rows(wh, "campaign_responses", len(pairs), campaign_id=pairs.campaign_id.tolist(),
                                    customer_id=pairs.customer_id.tolist(), response_type="pit", ts=_times(len(pairs))),
        "interactions": _rows(wh, "interactions", n, interaction_id=ids, customer_id=customers, ts=_times(n),
                              resolved=False, satisfaction=1.0),
        "feedback": _rows(wh, "feedback", n, feedback_id=ids, customer_id=customers, ts=_times(n)),
        "consents": _rows(wh, "consents", n, customer_id=customers, purpose="pit", ts=_times(n)),
    }


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_point_in_time_features_ignore_rows_after_the_cutoff_and_without_a_time(wh, tmp_path):
    before = _as_of(wh, tmp_path)
    future = _future(wh)
    assert set(future) == set(DATED)  # every dated canonical table gets later rows
    for name, rows in future.items():
        wh.insert(name, rows)
    after = _as_of(wh, tmp_path)
    for reader, frame in before.items():
        assert len(frame) > 0, reader
        pd.testing.assert_frame_equal(after[reader], frame, obj=reader)
    # The new rows were there to be seen: as of their own day they count.
    later = _as_of(wh, tmp_path, day=CUTOFF + pd.Timedelta(days=60))["customer_table"].set_index("customer_id")
    assert "PIT2" in later.index


def _edge_rows(wh, day: pd.Timestamp) -> dict[str, pa.Table]:
    """A new customer's events at the last second of ``day`` and at the first of the next day."""
    last, first = day + pd.Timedelta(hours=23, minutes=59, seconds=59), end_of_day(day)
    both, cid = [last, first], "EDGE"
    return {
        "customers": _rows(wh, "customers", 1, customer_id=cid, signup_date=day - pd.Timedelta(days=30)),
        "transactions": _rows(wh, "transactions", 2, order_id=["E1", "E2"], line_no=1, customer_id=cid,
                              ts=both, amount=[10.0, 20.0], is_return=False),
        "campaign_contacts": _rows(wh, "campaign_contacts", 2, campaign_id=["EK1", "EK2"], customer_id=cid,
                                   group="treatment", ts=both),
        "campaign_responses": _rows(wh, "campaign_responses", 2, campaign_id=["EK1", "EK2"], customer_id=cid,
                                    response_type="purchase", ts=[first, last]),
        "interactions": _rows(wh, "interactions", 2, interaction_id=["EI1", "EI2"], customer_id=cid, ts=both,
                              resolved=[True, False], satisfaction=[5.0, 1.0]),
    }


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_point_in_time_event_at_last_second_counts_and_at_next_midnight_does_not(wh, tmp_path):
    day = CUTOFF
    for name, rows in _edge_rows(wh, day).items():
        wh.insert(name, rows)
    got = _as_of(wh, tmp_path, day)
    row = got["customer_table"].set_index("customer_id").loc["EDGE"]
    assert (row["orders"], row["spend"], row["recency_days"]) == (1, 10.0, 0.0)
    # EK1 was contacted at 23:59:59 and answered after midnight; EK2 the other way round.
    assert (row["campaign_contacts"], row["campaign_responses"]) == (1, 0)
    assert (row["service_contacts"], row["resolution_rate"], row["mean_satisfaction"]) == (1, 1.0, 5.0)
    assert got["purchases"].query("customer_id == 'EDGE'").order_id.tolist() == ["E1"]
    rfm = got["rfm"].set_index("customer_id").loc["EDGE"]
    assert (rfm["frequency"], rfm["T"]) == (0, 0.0)
    nxt = _as_of(wh, tmp_path, day + pd.Timedelta(days=1))["customer_table"].set_index("customer_id").loc["EDGE"]
    assert (nxt["orders"], nxt["campaign_contacts"], nxt["campaign_responses"], nxt["service_contacts"]) == (2, 2, 2, 2)


@pytest.mark.parametrize("engine", ENGINES, indirect=True)
def test_point_in_time_rule_on_timestamps_and_dates(engine, tmp_path):
    wh = connect(tmp_path / ("w.duckdb" if engine == "duckdb" else "spark"), engine=engine)
    ts = pd.to_datetime(["2024-06-30 00:00:00", "2024-06-30 23:59:59.999", "2024-07-01 00:00:00", None], format="ISO8601")
    wh.write("events", pd.DataFrame({"i": [0, 1, 2, 3], "ts": ts, "day": ts.normalize()}))
    t = wh.table("events")
    t = t.mutate(day=t.day.date())
    got = wh.execute(t.select("i", k=known_at(t.ts, "2024-06-30"), a=after_day(t.ts, "2024-06-30"),
                              kd=known_at(t.day, "2024-06-30 18:00"), ad=after_day(t.day, CUTOFF)).order_by("i"))
    wh.close()
    assert got.k.tolist() == [True, True, False, False] and got.kd.tolist() == [True, True, False, False]
    assert got.a.tolist() == [False, False, True, False] and got.ad.tolist() == [False, False, True, False]
