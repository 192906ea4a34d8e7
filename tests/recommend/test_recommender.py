"""Next-best offer: recovery of planted preferences on a time split, point in time, order, exclusions, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from crmine.cli._app import app
from crmine.errors import SchemaError, SettingsError
from crmine.recommend import DEFAULT_WEIGHTS, RECOMMENDATION_COLUMNS, evaluate, recommend

runner = CliRunner()
COLS = {"user": "customer", "item": "sku", "time": "ts"}


def planted(n_users: int = 2000, n_cats: int = 20, per_cat: int = 25, days: int = 365, seed: int = 0) -> pd.DataFrame:
    """Retail purchases with known structure: each user prefers two categories and has three
    favourite items in them. Half of the purchases repeat a favourite, 40% are another item of a
    preferred category (popular ones more often), 10% any item."""
    rng = np.random.default_rng(seed)
    n_items = n_cats * per_cat
    cat_of = np.repeat(np.arange(n_cats), per_cat)
    within = 1.0 / (np.arange(per_cat) + 2.0)
    parts = []
    for u in range(n_users):
        pool = np.flatnonzero(np.isin(cat_of, rng.choice(n_cats, size=2, replace=False)))
        w = within[pool % per_cat] / within[pool % per_cat].sum()
        favourites = rng.choice(pool, size=3, replace=False, p=w)
        n = rng.poisson(14) + 1
        kind = rng.random(n)
        items = np.where(kind < 0.5, rng.choice(favourites, size=n),
                         np.where(kind < 0.9, rng.choice(pool, size=n, p=w), rng.integers(0, n_items, n)))
        t = np.sort(rng.uniform(0, days, n))
        parts.append(pd.DataFrame({"customer": f"c{u:05d}", "sku": [f"s{x:04d}" for x in items],
                                   "ts": pd.Timestamp("2025-01-01") + pd.to_timedelta(t, unit="D")}))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def buys() -> pd.DataFrame:
    return planted()


@pytest.fixture(scope="module")
def recs(buys) -> pd.DataFrame:
    return recommend(buys, **COLS, until="2025-10-31")


# ---- recovery on a time split -----------------------------------------------------------------------
def test_recommend_beats_both_baselines_on_planted_preferences(buys):
    table = evaluate(buys, **COLS, split="2025-10-31", k=10).set_index("model")
    # measured (seed 0): crmine 0.8337, buy_again 0.7879, popularity 0.1652, on 1,834 users
    assert table.loc["crmine", "users"] == 1834
    assert table.loc["crmine", "hit_rate"] >= table.loc["buy_again", "hit_rate"] + 0.04
    assert table.loc["crmine", "hit_rate"] >= table.loc["popularity", "hit_rate"] + 0.5
    assert table.loc["crmine", "recall"] > table.loc["buy_again", "recall"]
    assert table.loc["crmine", "precision"] > table.loc["buy_again", "precision"]
    assert list(table.reset_index().columns) == ["model", "hit_rate", "precision", "recall", "coverage", "users", "k"]


def test_recommend_beats_both_baselines_on_the_crmine_simulator(tmp_path):
    from crmine.datasets import simulate

    simulate(3000, seed=1, out_dir=tmp_path, bad_rows=False)
    tx = pd.read_csv(tmp_path / "sources" / "transactions.csv", dtype=str)
    tx = tx[tx["is_return"] == "0"]
    table = evaluate(tx, user="customer", item="sku", time="ts", split="2025-06-30").set_index("model")
    # measured: crmine 0.6384, buy_again 0.5859, popularity 0.5964, on 1,048 users
    assert table.loc["crmine", "hit_rate"] >= table.loc["buy_again", "hit_rate"] + 0.03
    assert table.loc["crmine", "hit_rate"] >= table.loc["popularity", "hit_rate"] + 0.03


# ---- the output ---------------------------------------------------------------------------------------
def test_recommend_gives_k_items_to_every_active_user(buys, recs):
    active = buys.loc[buys["ts"] < pd.Timestamp("2025-11-01"), "customer"].unique()
    assert list(recs.columns) == list(RECOMMENDATION_COLUMNS)
    assert set(recs["user"]) == set(active)
    assert (recs.groupby("user").size() == 10).all()
    assert (recs.groupby("user")["rank"].apply(list).map(lambda r: r == list(range(1, 11)))).all()
    assert not recs.duplicated(["user", "item"]).any()
    assert (recs.groupby("user")["score"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert recs.attrs["until"] == pd.Timestamp("2025-10-31")


def test_recommend_hand_worked_small_table():
    buys = pd.DataFrame({"customer": ["a", "a", "b", "b", "c"], "product": ["tea", "milk", "tea", "milk", "tea"],
                         "day": ["2025-01-02", "2025-01-03", "2025-01-02", "2025-01-05", "2025-01-06"]})
    out = recommend(buys, user="customer", item="product", time="day", k=5)
    # two items only: every user gets both; c never bought milk, but a and b bought it with tea
    assert out.groupby("user").size().to_dict() == {"a": 2, "b": 2, "c": 2}
    c = out[out["user"] == "c"].set_index("item")["score"]
    # tea: again 1/(1+0.5**(1/90)) + similar 0 + popular 0.1; milk: similar 0.25 + 0.1 * popularity(milk)
    again = 0.5 ** (1 / 90) / (1 + 0.5 ** (1 / 90))
    # ages at the end of 6 January, in days: a tea 5, a milk 4, b tea 5, b milk 2, c tea 1
    pop = np.array([0.5 ** (4 / 30) + 0.5 ** (2 / 30), 2 * 0.5 ** (5 / 30) + 0.5 ** (1 / 30)])
    assert c["tea"] == pytest.approx(again + 0.1, abs=1e-9)
    assert c["milk"] == pytest.approx(0.25 + 0.1 * pop[0] / pop[1], abs=1e-9)


def test_recommend_is_deterministic_and_independent_of_row_order(buys, recs):
    shuffled = buys.sample(frac=1.0, random_state=7).reset_index(drop=True)
    again = recommend(shuffled, **COLS, until="2025-10-31")
    pd.testing.assert_frame_equal(recs, again)


def test_recommend_never_looks_ahead(buys, recs):
    later = buys["ts"] >= pd.Timestamp("2025-11-01")
    changed = buys.copy()
    changed.loc[later, "sku"] = "s0499"  # everyone buys one item after the as-of day
    extra = pd.DataFrame({"customer": ["znew"] * 3, "sku": ["s0001"] * 3, "ts": [pd.Timestamp("2025-11-01")] * 3})
    out = recommend(pd.concat([changed, extra]), **COLS, until="2025-10-31")
    pd.testing.assert_frame_equal(recs, out)


def test_recommend_counts_a_day_through_its_last_second():
    buys = pd.DataFrame({"customer": ["a", "b"], "sku": ["x", "y"],
                         "ts": ["2025-03-01 23:59:59", "2025-03-02 00:00:00"]})
    out = recommend(buys, **COLS, until="2025-03-01")
    assert out["user"].tolist() == ["a"] and out["item"].tolist() == ["x"]


def test_recommend_a_new_user_with_one_purchase_gets_k_items(buys):
    new = pd.DataFrame({"customer": ["new"], "sku": ["s0003"], "ts": [pd.Timestamp("2025-10-30")]})
    out = recommend(pd.concat([buys, new]), **COLS, until="2025-10-31")
    mine = out[out["user"] == "new"]
    assert len(mine) == 10 and mine["rank"].tolist() == list(range(1, 11))
    assert mine["item"].iloc[0] == "s0003"  # buying again leads


def test_recommend_fewer_items_than_k_gives_all_items():
    buys = pd.DataFrame({"customer": ["a", "b", "b"], "sku": ["x", "y", "z"], "ts": ["2025-01-01"] * 3})
    out = recommend(buys, **COLS, k=10)
    assert out.groupby("user").size().to_dict() == {"a": 3, "b": 3}


def test_recommend_respects_exclusions(buys):
    recent = recommend(buys, **COLS, until="2025-10-31", exclude_recent_days=30)
    known = buys[buys["ts"] < pd.Timestamp("2025-11-01")]
    last30 = known[known["ts"] >= pd.Timestamp("2025-10-02")]
    bought = set(zip(last30["customer"], last30["sku"], strict=True))
    assert not bought & set(zip(recent["user"], recent["item"], strict=True))
    assert (recent.groupby("user").size() == 10).all()

    top = recommend(buys, **COLS, until="2025-10-31", k=3)
    banned = top[top["rank"] <= 2][["user", "item"]].rename(columns={"user": "customer", "item": "sku"})
    out = recommend(buys, **COLS, until="2025-10-31", k=3, exclude=banned)
    assert not set(zip(banned["customer"], banned["sku"], strict=True)) & set(zip(out["user"], out["item"], strict=True))
    assert (out.groupby("user").size() == 3).all()
    # the old third choice moves up to first
    third = top[top["rank"] == 3].set_index("user")["item"]
    first = out[out["rank"] == 1].set_index("user")["item"]
    assert (first == third.reindex(first.index)).mean() > 0.99


def test_recommend_weights_change_the_blend(buys):
    only_popular = recommend(buys, **COLS, k=3, weights={"buy_again": 0, "similar": 0})
    assert only_popular["item"].nunique() == 3  # the same three items for everyone
    assert DEFAULT_WEIGHTS == {"buy_again": 1.0, "similar": 0.25, "popular": 0.1}


# ---- errors -----------------------------------------------------------------------------------------
def test_recommend_errors_are_clear_and_never_show_values():
    buys = pd.DataFrame({"customer": ["secret-1"], "sku": ["x"], "ts": ["not-a-date-secret"]})
    with pytest.raises(SchemaError, match=r"Not found in the purchases: user column 'user', time column 'time'\. "
                                          r"Existing columns: customer, sku, ts\."):
        recommend(buys, user="user", item="sku", time="time")
    with pytest.raises(SchemaError, match=r"Column 'ts': 1 of 1 values are not dates or times") as e:
        recommend(buys, **COLS)
    assert "secret" not in str(e.value)
    ok = pd.DataFrame({"customer": ["a"], "sku": ["x"], "ts": ["2025-01-01"]})
    with pytest.raises(SettingsError, match=r"k must be a whole number of at least 1 \(received 0\)"):
        recommend(ok, **COLS, k=0)
    with pytest.raises(SettingsError, match=r"weights has unknown key\(s\) 'pop'"):
        recommend(ok, **COLS, weights={"pop": 1})
    with pytest.raises(SettingsError, match=r"evaluate: unknown option\(s\) alpha; the options are"):
        evaluate(ok, **COLS, split="2025-01-01", alpha=1)
    with pytest.raises(SchemaError, match=r"No purchase is known as of 2024-12-31: the first is on 2025-01-01"):
        recommend(ok, **COLS, until="2024-12-31")


# ---- the CLI ----------------------------------------------------------------------------------------
def _write(frame: pd.DataFrame, path) -> None:
    frame.to_csv(path, index=False)


def test_cli_recommend_writes_exact_columns_and_k_rows(tmp_path, buys):
    src = tmp_path / "buys.csv"
    sample = buys[buys["customer"] < "c00300"].copy()
    sample["customer"] = "0" + sample["customer"].str[1:]  # ids such as 000123 stay as written
    _write(sample, src)
    out = tmp_path / "recs.csv"
    r = runner.invoke(app, ["recommend", str(src), "--user", "customer", "--item", "sku", "--time", "ts",
                            "--until", "2025-10-31", "--k", "7", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output)
    assert {k: summary[k] for k in ("users", "k", "until", "out")} == {"users": 300, "k": 7, "until": "2025-10-31",
                                                                       "out": str(out)}
    recs = pd.read_csv(out, dtype={"user": str, "item": str})
    assert list(recs.columns) == ["user", "item", "rank", "score"]
    assert set(recs["user"]) == set(sample.loc[sample["ts"] < "2025-11-01", "customer"])
    assert recs["user"].str.startswith("0").all()
    assert (recs.groupby("user").size() == 7).all()
    assert (recs.groupby("user")["rank"].max() == 7).all()


def test_cli_recommend_reads_day_first_times(tmp_path):
    iso = pd.DataFrame({"customer": ["a", "a", "b", "b", "c"], "sku": ["x", "y", "x", "z", "y"],
                        "ts": pd.to_datetime(["2025-01-13 10:00", "2025-02-03 11:30", "2025-03-02 09:00",
                                              "2025-03-04 12:00", "2025-02-20 08:00"])})
    day_first = iso.assign(ts=iso["ts"].dt.strftime("%d/%m/%Y %H:%M"))
    _write(day_first, tmp_path / "dmy.csv")
    args = ["--user", "customer", "--item", "sku", "--time", "ts", "--until", "2025-03-02", "--k", "2"]
    r = runner.invoke(app, ["recommend", str(tmp_path / "dmy.csv"), *args, "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 0, r.output
    got = pd.read_csv(tmp_path / "a.csv", dtype=str)
    want = recommend(iso, **COLS, until="2025-03-02", k=2)
    # 03/02 is the 3rd of February, 02/03 the 2nd of March: b is active by the end of 2 March, z is not known
    assert got["user"].tolist() == want["user"].tolist() == ["a", "a", "b", "b", "c", "c"]
    assert got["item"].tolist() == want["item"].tolist()
    assert "z" not in set(got["item"])


def test_cli_recommend_evaluate_prints_the_baselines(tmp_path, buys):
    src = tmp_path / "buys.csv"
    _write(buys[buys["customer"] < "c00500"], src)
    r = runner.invoke(app, ["recommend", str(src), "--user", "customer", "--item", "sku", "--time", "ts",
                            "--evaluate", "2025-10-31"])
    assert r.exit_code == 0, r.output
    for word in ("crmine", "buy_again", "popularity", "hit_rate", "precision", "recall", "coverage"):
        assert word in r.output


def test_cli_recommend_errors(tmp_path):
    src = tmp_path / "buys.csv"
    _write(pd.DataFrame({"customer": ["private-name"], "sku": ["x"], "ts": ["31/31/2025"]}), src)
    base = ["recommend", str(src), "--user", "customer", "--item", "sku", "--out", str(tmp_path / "r.csv")]
    r = runner.invoke(app, [*base, "--time", "ts"])
    assert isinstance(r.exception, SchemaError)
    assert str(r.exception).startswith("Column 'ts': 1 of 1 values are not dates or times")
    assert "private-name" not in str(r.exception) and "31/31" not in str(r.exception)
    r = runner.invoke(app, [*base, "--time", "when"])
    assert isinstance(r.exception, SchemaError)
    assert str(r.exception).startswith("Not found in the purchases: time column 'when'. Existing columns: customer, sku, ts.")
    _write(pd.DataFrame({"customer": ["a"], "sku": ["x"], "ts": ["2025-01-01"]}), src)
    r = runner.invoke(app, [*base, "--time", "ts", "--k", "0"])
    assert isinstance(r.exception, SettingsError)
    assert str(r.exception) == "Next-best offer: k must be a whole number of at least 1 (received 0)."
    r = runner.invoke(app, ["recommend", str(src), "--user", "customer", "--item", "sku", "--time", "ts"])
    assert isinstance(r.exception, SettingsError)
    assert str(r.exception).startswith("Say where to write the recommendations with --out RECS.csv")
    assert not (tmp_path / "r.csv").exists()
