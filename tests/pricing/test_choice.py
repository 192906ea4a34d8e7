"""The brand-choice model (multinomial logit): reference libraries, a closed form, recovery on
simulated data, the elasticity definition, order independence, error messages and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special
from typer.testing import CliRunner

from crmine.cli._app import app
from crmine.errors import ConvergenceError, CrmineError, NotFittedError, SchemaError, SettingsError
from crmine.pricing import ChoiceModel, choice_alternatives

CRACKER = Path(__file__).resolve().parents[3] / "shared" / "data" / "cracker.csv"
BRANDS = ["kleebler", "nabisco", "private", "sunshine"]
ATTRS = ["price", "feat", "disp"]
NAMES = ["asc.nabisco", "asc.private", "asc.sunshine", *ATTRS]

needs_cracker = pytest.mark.skipif(not CRACKER.is_file(), reason="../shared/data/cracker.csv is not on this machine")
runner = CliRunner()


@pytest.fixture(scope="module")
def cracker() -> pd.DataFrame:
    return pd.read_csv(CRACKER)


@pytest.fixture(scope="module")
def fitted(cracker) -> ChoiceModel:
    return ChoiceModel(attributes=ATTRS).fit(cracker, choice="choice", id_column="id")


def _long(frame: pd.DataFrame, attrs: list[str], alts: list[str]) -> pd.DataFrame:
    """The long form built independently: one row per (occasion, alternative), ASC dummies."""
    rows = []
    for alt in alts:
        part = pd.DataFrame({"occasion": np.arange(len(frame)), "alt": alt,
                             "chosen": (frame["choice"] == alt).astype(int).to_numpy()})
        for a in alts[1:]:
            part[f"asc.{a}"] = float(alt == a)
        for a in attrs:
            part[a] = frame[f"{a}.{alt}"].astype(float).to_numpy()
        rows.append(part)
    return pd.concat(rows, ignore_index=True).sort_values(["occasion", "alt"], kind="stable")


# ---- oracles on the Cracker data ------------------------------------------------------------
@needs_cracker
def test_choice_matches_statsmodels_conditional_logit(cracker, fitted):
    from statsmodels.discrete.conditional_models import ConditionalLogit

    long = _long(cracker, ATTRS, BRANDS)
    ref = ConditionalLogit(long["chosen"], long[NAMES], groups=long["occasion"]).fit(
        method="newton", maxiter=100, disp=False)
    np.testing.assert_allclose(fitted.coefficients_.loc[NAMES, "estimate"], ref.params[NAMES], atol=1e-4, rtol=0)
    np.testing.assert_allclose(fitted.coefficients_.loc[NAMES, "std_error"], ref.bse[NAMES], atol=1e-4, rtol=1e-4)
    assert fitted.log_likelihood_ == pytest.approx(ref.llf, abs=1e-4)


@needs_cracker
def test_choice_matches_an_independent_likelihood_under_nelder_mead_and_bfgs(cracker, fitted):
    long = _long(cracker, ATTRS, BRANDS)
    x = long[NAMES].to_numpy().reshape(len(cracker), len(BRANDS), len(NAMES))
    y = long["chosen"].to_numpy().reshape(len(cracker), len(BRANDS))
    scale = np.array([1, 1, 1, 100, 1, 1.0])  # price in dollars for the optimiser

    def nll(t):
        v = x @ (t / scale)
        return -float(np.sum(v * y) - np.sum(special.logsumexp(v, axis=1)))

    start = optimize.minimize(nll, np.zeros(len(NAMES)), method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 40_000, "maxfev": 40_000})
    res = optimize.minimize(nll, start.x, method="BFGS", options={"gtol": 1e-7})
    np.testing.assert_allclose(fitted.coefficients_.loc[NAMES, "estimate"], res.x / scale, atol=1e-4, rtol=0)
    assert fitted.log_likelihood_ == pytest.approx(-res.fun, abs=1e-4)


# R mlogit 1.1 (Croissant), `mlogit(choice ~ price + disp + feat, data, reflevel = "nabisco")` on this
# same cracker.csv, as published by the torch-choice project: github.com/gsbDBI/torch-choice,
# tutorials/cracker/mlogit_output.json (commit 5e56cba; the R script is tutorials/cracker/fit_mlogit.R).
# Its constants are against nabisco and spell the brand "keebler"; ours are against kleebler.
MLOGIT = {  # name: (estimate, std. error)
    "(Intercept):keebler": (-1.9616080189171117, 0.072354459446587235),
    "(Intercept):private": (-1.7928140624228386, 0.10010671413647855),
    "(Intercept):sunshine": (-2.4552126688032092, 0.080015291726971902),
    "price": (-0.03124732395333836, 0.0020885103676941083),
    "disp": (0.091916861020631999, 0.062093032622603107),
    "feat": (0.49612635201387922, 0.095430317418770561),
}
MLOGIT_LOG_LIKELIHOOD = -3347.7132896155358


@needs_cracker
def test_choice_reproduces_the_published_mlogit_fit(fitted):
    est, cov = fitted.coefficients_["estimate"], fitted.covariance_
    for a in ("price", "disp", "feat"):
        assert est[a] == pytest.approx(MLOGIT[a][0], abs=1e-6)
        assert fitted.coefficients_.loc[a, "std_error"] == pytest.approx(MLOGIT[a][1], abs=1e-6)
    # mlogit's constant of j against nabisco is asc.j - asc.nabisco in our parametrisation
    assert -est["asc.nabisco"] == pytest.approx(MLOGIT["(Intercept):keebler"][0], abs=1e-6)
    assert math.sqrt(cov.loc["asc.nabisco", "asc.nabisco"]) == pytest.approx(MLOGIT["(Intercept):keebler"][1], abs=1e-6)
    for brand in ("private", "sunshine"):
        j, n = f"asc.{brand}", "asc.nabisco"
        assert est[j] - est[n] == pytest.approx(MLOGIT[f"(Intercept):{brand}"][0], abs=1e-6)
        se = math.sqrt(cov.loc[j, j] + cov.loc[n, n] - 2 * cov.loc[j, n])
        assert se == pytest.approx(MLOGIT[f"(Intercept):{brand}"][1], abs=1e-6)
    # mlogit stops a little short of the top (its gradient test): ours is 6e-6 higher
    assert MLOGIT_LOG_LIKELIHOOD <= fitted.log_likelihood_ <= MLOGIT_LOG_LIKELIHOOD + 1e-4
    assert fitted.null_log_likelihood_ == pytest.approx(3292 * math.log(0.25))
    assert fitted.rho2_ == pytest.approx(1 - fitted.log_likelihood_ / fitted.null_log_likelihood_)
    assert fitted.n_occasions_ == 3292 and fitted.alternatives_ == BRANDS
    assert "robust_std_error" in fitted.coefficients_.columns


@needs_cracker
def test_choice_constants_reproduce_the_observed_shares(fitted):
    # the score of each constant is zero at the maximum: predicted share = observed share
    np.testing.assert_allclose(fitted.shares_["predicted"], fitted.shares_["observed"], atol=1e-8)


@needs_cracker
def test_choice_elasticities_equal_a_finite_difference_of_predicted_shares(cracker, fitted):
    h = 1e-4
    for m in BRANDS:
        up, down = cracker.copy(), cracker.copy()
        up[f"price.{m}"] *= 1 + h
        down[f"price.{m}"] *= 1 - h
        fd = (np.log(fitted.predict_shares(up)) - np.log(fitted.predict_shares(down))) / (
            math.log1p(h) - math.log1p(-h))
        np.testing.assert_allclose(fitted.cross_elasticities_[m].to_numpy(), fd.to_numpy(), atol=1e-6)
        assert fitted.elasticities_[m] == pytest.approx(fd[m], abs=1e-6)
    assert (fitted.elasticities_ < 0).all()


# ---- hand-worked and simulated data ---------------------------------------------------------
def test_choice_saturated_binary_logit_is_worked_out_by_hand():
    # two alternatives; x.b is 0 at four occasions (one chooses b) and 1 at four (three choose b):
    # asc.b = logit(1/4) = log(1/3), asc.b + beta = logit(3/4) = log 3, so beta = log 9
    frame = pd.DataFrame({"x.a": [0.0] * 8, "x.b": [0.0] * 4 + [1.0] * 4, "choice": list("abaa" "bbab")})
    model = ChoiceModel(attributes=["x"]).fit(frame, choice="choice")
    assert model.coefficients_.loc["asc.b", "estimate"] == pytest.approx(math.log(1 / 3), abs=1e-7)
    assert model.coefficients_.loc["x", "estimate"] == pytest.approx(math.log(9), abs=1e-7)
    assert model.log_likelihood_ == pytest.approx(2 * math.log(1 / 4) + 6 * math.log(3 / 4), abs=1e-9)
    assert model.constants_log_likelihood_ == pytest.approx(8 * math.log(1 / 2))
    assert model.elasticities_.empty and model.cross_elasticities_.empty


def _simulate(n: int, seed: int, truth: dict[str, float]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    alts = ["a", "b", "c"]
    frame = pd.DataFrame({f"price.{a}": rng.uniform(1, 3, n) for a in alts}
                         | {f"feat.{a}": rng.binomial(1, 0.3, n).astype(float) for a in alts})
    v = np.column_stack([truth.get(f"asc.{a}", 0.0) + truth["price"] * frame[f"price.{a}"]
                         + truth["feat"] * frame[f"feat.{a}"] for a in alts])
    frame["choice"] = np.array(alts)[np.argmax(v + rng.gumbel(size=v.shape), axis=1)]
    frame["household"] = rng.integers(0, 500, n)
    return frame


def test_choice_recovers_simulated_coefficients_within_three_standard_errors():
    truth = {"asc.b": 0.5, "asc.c": -0.4, "price": -1.2, "feat": 0.8}
    model = ChoiceModel(attributes=["price", "feat"]).fit(_simulate(4000, 7, truth), choice="choice",
                                                           id_column="household")
    c = model.coefficients_
    for name, value in truth.items():
        assert abs(c.loc[name, "estimate"] - value) < 3 * c.loc[name, "std_error"], name


def test_choice_is_independent_of_row_and_column_order():
    frame = _simulate(1500, 3, {"asc.b": 0.2, "asc.c": 0.1, "price": -1.0, "feat": 0.5})
    base = ChoiceModel(attributes=["price", "feat"]).fit(frame, choice="choice")
    shuffled = frame.sample(frac=1, random_state=1)[list(np.random.default_rng(2).permutation(frame.columns))]
    other = ChoiceModel(attributes=["feat", "price"]).fit(shuffled, choice="choice")
    pd.testing.assert_series_equal(base.coefficients_["estimate"], other.coefficients_.loc[
        base.coefficients_.index, "estimate"], atol=1e-9, rtol=0)
    assert other.log_likelihood_ == pytest.approx(base.log_likelihood_, abs=1e-9)
    pd.testing.assert_frame_equal(base.cross_elasticities_, other.cross_elasticities_, atol=1e-9, rtol=0)


def test_choice_alternatives_are_column_suffixes():
    assert choice_alternatives(["price.b", "price.a.x", "priced.c", "price."], "price") == ["a.x", "b"]


# ---- errors ---------------------------------------------------------------------------------
def _small() -> pd.DataFrame:
    return _simulate(300, 11, {"price": -1.0, "feat": 0.5})


def test_choice_error_names_a_choice_that_is_no_alternative():
    frame = _small()
    frame.loc[[3, 5], "choice"] = "d"
    with pytest.raises(SchemaError, match=r"'choice' of the table must name one of the alternatives \(a, b, c\).*"
                                          r"2 rows name no alternative: 'd' \(2 rows\)"):
        ChoiceModel(attributes=["price"]).fit(frame, choice="choice")


def test_choice_error_names_every_missing_attribute_column():
    frame = _small().drop(columns=["feat.c", "price.b"])
    with pytest.raises(SchemaError, match=r"column 'price.b' is missing.*column 'feat.c' is missing.*Rename or add"):
        ChoiceModel(attributes=["price", "feat"]).fit(frame, choice="choice")
    with pytest.raises(SchemaError, match=r"attribute 'disp' has no column named 'disp.<alternative>'"):
        ChoiceModel(attributes=["disp"]).fit(_small(), choice="choice")
    with pytest.raises(SchemaError, match=r"column 'brand' not found"):
        ChoiceModel(attributes=["price"]).fit(_small(), choice="brand")


def test_choice_error_counts_non_numeric_and_missing_cells():
    frame = _small().astype({"price.a": object})
    frame.loc[[1, 2], "price.a"] = "n/a"
    frame.loc[4, "feat.b"] = np.nan
    with pytest.raises(SchemaError, match=r"finite number in every row: 'price.a' \(2 not numeric\); "
                                          r"'feat.b' \(1 missing\)\. Clean or drop"):
        ChoiceModel(attributes=["price", "feat"]).fit(frame, choice="choice")


def test_choice_error_lists_bad_cells_and_bad_labels_at_once():
    frame = _small().astype({"price.a": object})
    frame.loc[1, "price.a"] = "n/a"
    frame.loc[2, "choice"] = None
    with pytest.raises(SchemaError, match=r"'price.a' \(1 not numeric\).*1 rows have no choice"):
        ChoiceModel(attributes=["price"]).fit(frame, choice="choice")


def test_choice_error_when_an_attribute_separates_the_choices():
    rng = np.random.default_rng(0)
    chosen = rng.choice(["a", "b"], 200)
    frame = pd.DataFrame({"x.a": (chosen == "a") + rng.uniform(0, 0.1, 200),
                          "x.b": (chosen == "b") + rng.uniform(0, 0.1, 200), "choice": chosen})
    with pytest.raises(ConvergenceError, match=r"no finite maximum: the attributes \(or constants\) separate"):
        ChoiceModel(attributes=["x"]).fit(frame, choice="choice")


def test_choice_error_on_a_singular_design():
    frame = _small()
    week = np.arange(len(frame), dtype=float)
    for a in "abc":
        frame[f"week.{a}"] = week  # the same for every alternative at each occasion
        frame[f"size.{a}"] = {"a": 1.0, "b": 2.0, "c": 4.0}[a]  # moves only with the alternative
    with pytest.raises(SchemaError, match=r"Singular design on the table: week never differ\(s\) across "
                                          r"alternatives.*Drop it"):
        ChoiceModel(attributes=["price", "week"]).fit(frame, choice="choice")
    with pytest.raises(SchemaError, match=r"are collinear \(rank 3 of 4\)"):
        ChoiceModel(attributes=["price", "size"]).fit(frame, choice="choice")


def test_choice_error_on_an_alternative_never_chosen_and_bad_settings():
    frame = _small()
    frame = frame[frame["choice"] != "c"]
    with pytest.raises(SchemaError, match=r"Alternatives never chosen in .* occasions of the table: c\."):
        ChoiceModel(attributes=["price"]).fit(frame, choice="choice")
    with pytest.raises(SettingsError, match=r"Name at least one attribute"):
        ChoiceModel(attributes=[]).fit(_small(), choice="choice")
    with pytest.raises(NotFittedError, match=r"not fitted yet"):
        ChoiceModel(attributes=["price"]).predict_shares(_small())


# ---- the CLI --------------------------------------------------------------------------------
@needs_cracker
def test_cli_price_choice_json_contract(fitted):
    out = runner.invoke(app, ["price", "choice", str(CRACKER), "--choice", "choice", "--id", "id",
                              "--attribute", "price", "--attribute", "feat", "--attribute", "disp", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert {"coefficients", "log_likelihood", "elasticities"} <= set(doc)
    assert list(doc["coefficients"]) == NAMES
    for name in NAMES:
        assert {"estimate", "std_error"} <= set(doc["coefficients"][name])
        assert doc["coefficients"][name]["estimate"] == pytest.approx(fitted.coefficients_.loc[name, "estimate"])
    assert doc["log_likelihood"] == pytest.approx(fitted.log_likelihood_)
    assert set(doc["elasticities"]) == set(BRANDS)
    assert doc["elasticities"]["nabisco"] == pytest.approx(fitted.elasticities_["nabisco"])
    assert doc["n"] == 3292 and doc["alternatives"] == BRANDS


def test_cli_price_choice_without_price_has_empty_elasticities(tmp_path):
    path = tmp_path / "occasions.csv"
    _small().to_csv(path, index=False)
    out = runner.invoke(app, ["price", "choice", str(path), "--choice", "choice", "--attribute", "feat", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.output)
    assert doc["elasticities"] == {} and list(doc["coefficients"]) == ["asc.b", "asc.c", "feat"]
    named = json.loads(runner.invoke(app, ["price", "choice", str(path), "--choice", "choice", "--attribute",
                                           "feat", "--price", "price", "--json"]).output)
    assert set(named["elasticities"]) == {"a", "b", "c"} and "price" in named["coefficients"]


def test_cli_price_choice_prints_a_table_and_fails_clearly(tmp_path):
    path = tmp_path / "occasions.csv"
    _small().to_csv(path, index=False)
    out = runner.invoke(app, ["price", "choice", str(path), "--choice", "choice", "--attribute", "price"])
    assert out.exit_code == 0, out.output
    assert "asc.b" in out.output and "log-likelihood" in out.output and "own_price_elasticity" in out.output
    bad = runner.invoke(app, ["price", "choice", str(path), "--choice", "choice", "--attribute", "cost"])
    assert isinstance(bad.exception, CrmineError)
    assert "'cost.<alternative>'" in str(bad.exception)
