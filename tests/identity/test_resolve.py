"""resolve() on hand-made tables whose answer is known, and on generated ones."""

from __future__ import annotations

import hashlib
import logging

import pandas as pd
import pytest

from crmine.errors import EngineError, SchemaError
from crmine.identity import DEFAULT_THRESHOLD, IdentityResult, evaluate, resolve
from tests.identity._identity_fakes import fake_customers


def _lineage(wh) -> pd.DataFrame:
    df = wh.execute(wh.table("customer_lineage"))
    return df.sort_values("customer_id").set_index("customer_id")


def _uid(customer_id: str) -> str:
    return "U" + hashlib.sha256(customer_id.encode()).hexdigest()[:12]


def _groups(lineage: pd.DataFrame) -> set[frozenset[str]]:
    return {frozenset(g.index) for _, g in lineage.groupby("unified_id")}


def test_resolve_links_typos_and_reformatted_fields(hand_wh):
    resolve(hand_wh)
    lin = _lineage(hand_wh)
    assert lin.loc["crm-1", "unified_id"] == lin.loc["web-1", "unified_id"]
    assert lin.loc["crm-3", "unified_id"] == lin.loc["web-3", "unified_id"]


def test_resolve_keeps_namesakes_apart(hand_wh):
    resolve(hand_wh)
    lin = _lineage(hand_wh)
    # Another Jane Smith: other birth date, e-mail, phone and address.
    assert lin.loc["crm-2", "unified_id"] != lin.loc["crm-1", "unified_id"]
    assert _groups(lin) == {
        frozenset({"crm-1", "web-1"}), frozenset({"crm-3", "web-3"}), frozenset({"crm-2"}),
        frozenset({"crm-4"}), frozenset({"web-5"}), frozenset({"crm-6"}),
    }  # fmt: skip


def test_resolve_lineage_has_documented_columns(hand_wh):
    resolve(hand_wh)
    lin = _lineage(hand_wh).reset_index()
    assert list(lin.columns) == [
        "customer_id", "source_system", "unified_id", "cluster_size", "match_probability",
    ]  # fmt: skip
    lin = lin.set_index("customer_id")
    assert lin.loc["web-1", "source_system"] == "web"
    assert lin.loc["crm-1", "cluster_size"] == 2
    assert lin.loc["crm-2", "cluster_size"] == 1
    # Linked records carry their best link's probability; a record alone has none.
    assert lin.loc["crm-1", "match_probability"] >= DEFAULT_THRESHOLD
    assert lin.loc["crm-1", "match_probability"] == lin.loc["web-1", "match_probability"]
    assert pd.isna(lin.loc["crm-2", "match_probability"])


def test_resolve_unified_id_derives_from_smallest_member(hand_wh):
    # A first resolution names each customer from its smallest record key, "source_system:customer_id".
    resolve(hand_wh)
    lin = _lineage(hand_wh)
    assert lin.loc["web-1", "unified_id"] == _uid("crm:crm-1")
    assert lin.loc["web-3", "unified_id"] == _uid("crm:crm-3")
    assert lin.loc["web-5", "unified_id"] == _uid("web:web-5")  # a singleton keeps its own


def test_resolve_ids_are_stable_across_runs(hand_wh):
    resolve(hand_wh)
    first = _lineage(hand_wh)
    resolve(hand_wh)
    pd.testing.assert_frame_equal(first, _lineage(hand_wh))


def test_resolve_returns_counts(hand_wh):
    result = resolve(hand_wh, threshold=0.95, seed=3)
    assert isinstance(result, IdentityResult)
    assert (result.records, result.unified_customers, result.merged_records, result.clusters) == (
        8, 6, 2, 2,
    )  # fmt: skip
    assert result.threshold == 0.95
    assert result.trained is False  # eight records are too few to train on
    d = result.to_dict()
    assert d["records"] == 8 and d["unified_customers"] == 6 and d["clusters"] == 2
    assert "email" in d["blocking_rules"] and "phone" in d["columns_used"]
    with pytest.raises(AttributeError):
        result.records = 1  # frozen


def test_resolve_reports_progress(hand_wh):
    calls = []
    resolve(hand_wh, progress=lambda step, done, total: calls.append((step, done, total)))
    assert [c[0] for c in calls] == [
        "standardise", "estimate u", "predict", "cluster", "write lineage",
    ]  # fmt: skip
    assert [c[1] for c in calls] == [0, 1, 2, 3, 4] and {c[2] for c in calls} == {5}


def test_resolve_leaves_no_working_tables(hand_wh):
    def tables():
        return {t for t in hand_wh.con.list_tables() if not t.startswith("ibis_pyarrow_memtable")}

    before = tables()
    resolve(hand_wh)
    # Ibis registers written frames as in-memory views (ibis_pyarrow_memtable_*); those hold nothing on disk.
    written = {"customer_lineage", "customer_lineage_history", "identity_changes", "identity_state", "identity_model"}
    assert tables() == before | written
    resolve(hand_wh)  # incremental: no delta table or Splink table is left behind either
    assert tables() == before | written


def test_resolve_logs_no_customer_values(hand_wh, caplog, capsys):
    with caplog.at_level(logging.DEBUG):
        resolve(hand_wh)
    out = capsys.readouterr()
    text = caplog.text + out.out + out.err
    for value in ("jane", "Jane", "7700", "example.com", "SW1A", "High"):
        assert value not in text


def test_resolve_works_without_optional_columns(warehouse, hand_df):
    warehouse.write("customers", hand_df[["customer_id", "name", "email"]])
    result = resolve(warehouse)
    lin = _lineage(warehouse)
    assert result.columns_used == ("name", "email")
    assert lin.loc["crm-1", "unified_id"] == lin.loc["web-1", "unified_id"]
    assert lin["source_system"].isna().all()
    for single in ("crm-4", "web-5", "crm-6"):
        assert lin.loc[single, "cluster_size"] == 1


def test_resolve_ignores_all_null_columns(warehouse, hand_df):
    hand_df["phone"] = pd.Series(None, index=hand_df.index, dtype="string")
    hand_df["birth_date"] = pd.NaT
    hand_df["gender"] = pd.Series(None, index=hand_df.index, dtype="string")
    warehouse.write("customers", hand_df)
    result = resolve(warehouse)
    assert "phone" not in result.columns_used and "birth_date" not in result.columns_used
    lin = _lineage(warehouse)
    assert lin.loc["crm-1", "unified_id"] == lin.loc["web-1", "unified_id"]
    assert lin.loc["crm-2", "unified_id"] != lin.loc["crm-1", "unified_id"]


def test_resolve_single_record_and_empty_table(warehouse, hand_df):
    warehouse.write("customers", hand_df.head(1))
    result = resolve(warehouse)
    assert (result.records, result.unified_customers, result.clusters) == (1, 1, 0)
    assert _lineage(warehouse).loc["crm-1", "unified_id"] == _uid("crm:crm-1")
    warehouse.write("customers", hand_df.head(0))
    assert resolve(warehouse).records == 0
    assert warehouse.count("customer_lineage") == 0


def test_resolve_requires_customer_id(warehouse, hand_df):
    warehouse.write("customers", hand_df.drop(columns="customer_id"))
    with pytest.raises(SchemaError, match=r"Table 'customers' lacks column\(s\) customer_id\."):
        resolve(warehouse)


def test_resolve_requires_a_matching_column(warehouse, hand_df):
    warehouse.write("customers", hand_df[["customer_id", "source_system"]])
    with pytest.raises(
        SchemaError, match=r"no column to match records on; .* at least one of name, email"
    ):
        resolve(warehouse)


def test_resolve_without_matching_data_keeps_each_record_apart(warehouse, hand_df):
    df = hand_df[["customer_id", "name", "email"]].assign(
        name=pd.Series(None, index=hand_df.index, dtype="string"), email="  "
    )
    warehouse.write("customers", df)
    result = resolve(warehouse)
    assert result.records == len(hand_df) and result.unified_customers == len(hand_df)
    assert result.merged_records == 0 and not result.trained
    assert result.note == f"no identifying columns: each of {len(hand_df)} records is its own customer"
    assert result.columns_used == () and result.blocking_rules == ()


def test_resolve_of_inferred_customers_runs_no_splink_and_keeps_the_lineage_shape(
    warehouse, hand_df, monkeypatch
):
    from crmine.identity import _splink

    warehouse.write("customers", hand_df)
    resolve(warehouse)
    matched = warehouse.table("customer_lineage").schema()
    # What ingest infers from a sales export: ids only, marked as inferred, every other column empty.
    inferred = hand_df.assign(**{c: None for c in hand_df.columns if c != "customer_id"})
    inferred["source_system"] = "inferred"
    warehouse.write("customers", inferred.astype({"birth_date": "datetime64[ns]"}))

    def no_splink(*args, **kwargs):
        raise AssertionError("Splink ran on records with nothing to match on")

    monkeypatch.setattr(_splink, "run_splink", no_splink)
    result = resolve(warehouse)
    assert warehouse.table("customer_lineage").schema() == matched
    lin = _lineage(warehouse)
    assert list(lin.index) == sorted(hand_df.customer_id)
    assert lin.unified_id.is_unique and (lin.cluster_size == 1).all()
    assert lin.match_probability.isna().all() and (lin.source_system == "inferred").all()
    assert all(lin.loc[c, "unified_id"] == _uid(f"inferred:{c}") for c in lin.index)
    assert result.unified_customers == result.records == len(hand_df)
    assert "each of 8 records is its own customer" in result.note


def test_resolve_requires_unique_ids(warehouse, hand_df):
    hand_df.loc[1, "customer_id"] = "crm-1"
    warehouse.write("customers", hand_df)
    with pytest.raises(
        SchemaError,
        match=r"one row per customer_id: found 0 row\(s\) with an empty customer_id and 1 repeated",
    ):
        resolve(warehouse)


@pytest.mark.parametrize("threshold", [0, 1, 1.5, -0.1])
def test_resolve_rejects_threshold_outside_0_1(hand_wh, threshold):
    with pytest.raises(ValueError, match=r"must lie strictly between 0 and 1"):
        resolve(hand_wh, threshold=threshold)


def test_resolve_rejects_non_integer_seed(hand_wh):
    with pytest.raises(TypeError, match=r"seed must be an integer, got str"):
        resolve(hand_wh, seed="1")


def test_resolve_needs_customers_table(warehouse):
    with pytest.raises(EngineError, match=r"Table 'customers' does not exist"):
        resolve(warehouse)


@pytest.fixture(scope="module")
def generated():
    """About 1,100 records of 800 people: enough to train the model."""
    return fake_customers(800, seed=11)


def test_resolve_trained_model_is_accurate_and_deterministic(warehouse, generated):
    customers, truth = generated
    warehouse.write("customers", customers)
    result = resolve(warehouse, seed=1)
    assert result.trained
    first = _lineage(warehouse)
    scores = evaluate(first.reset_index(), truth)
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, scores
    resolve(warehouse, seed=1)
    pd.testing.assert_frame_equal(first, _lineage(warehouse))


def test_resolve_falls_back_to_single_column_blocking(warehouse, hand_df):
    warehouse.write("customers", hand_df[["customer_id", "postcode", "address"]])
    result = resolve(warehouse)
    assert result.blocking_rules == ("postcode", "address")
    assert _groups(_lineage(warehouse)) == {
        frozenset({"crm-1", "web-1"}), frozenset({"crm-3", "web-3"}), frozenset({"crm-2"}),
        frozenset({"crm-4"}), frozenset({"web-5"}), frozenset({"crm-6"}),
    }  # fmt: skip


def test_resolve_keeps_household_and_twins_apart_but_links_nicknames(warehouse):
    # A couple and their twins share address, landline and a family e-mail; "Bob" is "Robert".
    cols = ["customer_id", "name", "email", "phone", "address", "postcode", "birth_date", "gender"]
    rows = [
        ("h-1", "Sarah Hughes", "hughesfamily@example.com", "01632 960123", "8 Elm Road", "CF10 2AB", "1975-03-14", "F"),
        ("h-2", "Peter Hughes", "hughesfamily@example.com", "01632 960123", "8 Elm Road", "CF10 2AB", "1973-11-02", "M"),
        ("h-3", "Emma Hughes", None, "01632 960123", "8 Elm Rd", "CF102AB", "2005-06-30", "F"),
        ("h-4", "Lucy Hughes", None, "+44 1632 960123", "8 Elm Road", "CF10 2AB", "2005-06-30", "F"),
        ("n-1", "Robert Green", "rgreen@example.com", "07700 900888", "5 Oak Lane", "BS1 4DJ", "1968-02-28", "M"),
        ("n-2", "Bob Green", "r.green@example.com", "+44 7700 900888", "5 Oak Ln", "BS14DJ", "1968-02-28", "male"),
        ("x-1", "Ali Khan", "ali.khan@example.com", "07700 900555", "77 Queens Avenue", "E1 6AN", "1985-09-09", "M"),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=cols).assign(birth_date=lambda d: pd.to_datetime(d.birth_date))
    warehouse.write("customers", df)
    resolve(warehouse)
    assert _groups(_lineage(warehouse)) == {
        frozenset({"n-1", "n-2"}), frozenset({"h-1"}), frozenset({"h-2"}), frozenset({"h-3"}),
        frozenset({"h-4"}), frozenset({"x-1"}),
    }  # fmt: skip


def test_resolve_links_nothing_in_a_table_without_duplicates(warehouse):
    # 700 people, one record each (households included): the model trains u, finds too few
    # pairs for expectation maximisation, keeps its priors and links no one.
    customers, truth = fake_customers(700, seed=3, p_crm=1.0, p_web=0.0)
    customers = customers.groupby(truth["person_id"].to_numpy()).head(1)
    warehouse.write("customers", customers)
    result = resolve(warehouse)
    assert result.trained
    assert (result.records, result.unified_customers, result.clusters) == (700, 700, 0)
