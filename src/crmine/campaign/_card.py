"""The uplift model card: one offline HTML page that shows how a fitted UpliftModel was chosen.

Per treatment arm it holds the design of the test (rows and outcome rate per group), the
cross-validated comparison of the candidates with the random and the response-model rankings, the
Qini and uplift curves of the out-of-fold rankings, the realised uplift per decile of forecast
uplift and uplift@k at a few shares. Like the predictive model card (:mod:`crmine.report._card`)
it is built from aggregates of the out-of-fold forecasts only, never from a customer's row or id,
and it embeds plotly.js so that it opens without a network.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmine.campaign._metrics import uplift_at_k
from crmine.campaign._plots import (
    model_rankings,
    qini_figure,
    realised_lift_figure,
    uplift_curve_figure,
)

if TYPE_CHECKING:
    from crmine.campaign._uplift import UpliftModel
    from crmine.report._page import Section

__all__ = ["CARD_SHARES", "uplift_card"]

#: The shares of customers targeted at which the card reports uplift@k.
CARD_SHARES = (0.1, 0.2, 0.3, 0.5)

# results_ column -> label in the candidates table
_COLUMNS = {
    "kind": "kind",
    "qini_mean": "Qini",
    "qini_std": "Qini sd",
    "auuc_mean": "AUUC",
    "auuc_std": "AUUC sd",
    "uplift_at_k_mean": "uplift@k",
    "uplift_at_k_std": "uplift@k sd",
}


def _anchor(i: int, part: str) -> str:
    # Arm values are user text: the anchor uses the arm's position, the title its name.
    return f"arm{i}-{part}"


def candidates_table(model: UpliftModel, arm: str) -> pd.DataFrame:
    """One row per candidate of ``arm`` (uplift learners, the ensemble, the response models and
    the random ranking): fold means and standard deviations, the Qini gain over random, a best flag."""
    r = model.results_.xs(arm, level="arm")
    labels = {**_COLUMNS, "uplift_at_k_mean": f"uplift@{model.k:.0%}", "uplift_at_k_std": f"uplift@{model.k:.0%} sd"}
    out = r[list(_COLUMNS)].rename(columns=labels)
    out.insert(0, "candidate", [str(c) for c in out.index])
    random = r.loc[r["kind"] == "random", "qini_mean"]
    out["Qini - random"] = r["qini_mean"] - (float(random.iloc[0]) if len(random) else np.nan)
    out["best"] = out["candidate"] == model.best_[arm]
    order = {"uplift": 0, "response": 1, "random": 2}
    out = out.assign(_o=out["kind"].map(order).fillna(3)).sort_values(["_o", "Qini"], ascending=[True, False])
    return out.drop(columns="_o").reset_index(drop=True)


def design_table(model: UpliftModel, arm: str) -> pd.DataFrame:
    """Rows and outcome rate (or mean, and share with a non-zero outcome) of the arm and of the
    control, among the rows modelled."""
    o = model.oof_[arm]
    rows = []
    for label, treated in ((arm, 1), (f"{model.control_} (control)", 0)):
        y = o["outcome"].to_numpy(float)[o["treated"].to_numpy(int) == treated]
        rows.append({"group": label, "rows": int(len(y)), "outcome mean": float(y.mean()) if len(y) else np.nan,
                     "customers with outcome > 0": float((y > 0).mean()) if len(y) else np.nan})
    out = pd.DataFrame(rows)
    diff = out["outcome mean"].iloc[0] - out["outcome mean"].iloc[1]
    if model.kind_ == "binary":  # a 0/1 outcome: the mean is the rate, the second column the same
        out = out.drop(columns="customers with outcome > 0").rename(columns={"outcome mean": "outcome rate"})
    out.attrs["lift"] = float(diff)
    return out


def uplift_at_k_table(model: UpliftModel, arm: str, shares=CARD_SHARES) -> pd.DataFrame:
    """uplift@k of the out-of-fold uplift, response and random rankings at each share ``k``."""
    y, w, ranks = model_rankings(model, arm)
    ranks = {**ranks, "random": model.oof_[arm]["random"].to_numpy(float)}
    rows = [{"top share k": f"{k:.0%}", "customers": int(len(y) * k),
             **{name: uplift_at_k(y, w, s, k) for name, s in ranks.items()}} for k in shares]
    return pd.DataFrame(rows)


def _decile_table(model: UpliftModel, arm: str) -> pd.DataFrame:
    t = model.decile_table(arm)
    return t.rename(columns={"n_treatment": "treated", "n_control": "control", "treatment_mean": "treated mean",
                             "control_mean": "control mean", "uplift": "realised uplift",
                             "predicted_uplift": "forecast uplift"})


def _arm_sections(model: UpliftModel, arm: str, i: int) -> list[Section]:
    from crmine.report._page import Section

    binary = model.kind_ == "binary"
    pct = ("outcome rate", "customers with outcome > 0")
    y, w, ranks = model_rankings(model, arm)
    best = model.best_[arm]
    res = model.results_.xs(arm, level="arm")
    prefix = f"{arm} vs {model.control_}: " if len(model.arms_) > 1 else ""

    design = Section(_anchor(i, "design"), f"{prefix}The test",
                     f"The rows of arm {arm} and of the control {model.control_} the model learnt from; the "
                     "difference of their outcome means is the average effect of the contact.")
    d = design_table(model, arm)
    design.kpis([("treated rows", f"{int(w.sum()):,}"), ("control rows", f"{int(len(w) - w.sum()):,}"),
                 ("treated share", f"{model.treated_share_[arm]:.1%}"),
                 ("average lift (treated - control)", f"{d.attrs['lift']:.2%}" if binary else f"{d.attrs['lift']:,.4g}")])
    design.table(d, percent=pct)

    compared = Section(_anchor(i, "candidates"), f"{prefix}Candidates compared",
                       f"Every candidate ranked the held-out rows of the same {model.cv} seeded folds; each number "
                       "is the mean (sd: the standard deviation) over the folds. A learner must beat the random "
                       "ranking (Qini near 0) and the response model's ranking (who buys when contacted) to be "
                       "worth more than a response model.")
    rand = float(res.loc[res["kind"] == "random", "qini_mean"].iloc[0])
    resp = res[res["kind"] == "response"]["qini_mean"]
    compared.kpis([("chosen", best), ("Qini of the chosen", f"{res.loc[best, 'qini_mean']:.3f}"),
                   ("best response model's Qini", f"{resp.max():.3f}" if len(resp) else "–"),
                   ("random ranking's Qini", f"{rand:.3f}")])
    compared.table(candidates_table(model, arm), title="Cross-validated Qini, AUUC and uplift@k")
    if best == "ensemble":
        compared.note("The ensemble (the mean of every learner's forecast) is kept unless one learner beats it by "
                      "more than two standard errors of their paired fold differences.")

    curves = Section(_anchor(i, "curves"), f"{prefix}Qini and uplift curves",
                     "Customers sorted by out-of-fold forecast, highest first: the higher a curve rises above the "
                     "dotted random line, the more incremental outcome a campaign gets by contacting the top share. "
                     "The legends give the Qini of the pooled out-of-fold ranking.")
    curves.figure(qini_figure(y, w, ranks, title="Qini curves (out of fold)"))
    curves.figure(uplift_curve_figure(y, w, ranks, title="Uplift curves (out of fold)"))

    deciles = Section(_anchor(i, "deciles"), f"{prefix}Uplift by decile",
                      "The rows cut into ten equal groups by out-of-fold forecast uplift (1 = highest): the treated "
                      "mean minus the control mean in each should fall from the first decile to the last.")
    t = _decile_table(model, arm)
    deciles.figure(realised_lift_figure(model.decile_table(arm),
                                        title="Realised uplift per decile of forecast uplift (1 = highest)"))
    deciles.table(t, percent=("treated mean", "control mean") if binary else ())

    at_k = Section(_anchor(i, "uplift-at-k"), f"{prefix}Uplift@k",
                   "Among the top k of all rows by each out-of-fold ranking: the treated mean minus the control mean "
                   "(scikit-uplift's definition).")
    at_k.table(uplift_at_k_table(model, arm))
    return [design, compared, curves, deciles, at_k]


def uplift_card(model: UpliftModel, path: str | os.PathLike, /, *, source: str | None = None) -> Path:
    """Write the model card of a fitted uplift model as one self-contained HTML file.

    Parameters
    ----------
    model
        A fitted (or loaded) UpliftModel.
    path
        Where to write; the file is replaced atomically and its folder created when missing.
    source
        What the model was fitted on (e.g. the file name), shown under the title.

    Returns
    -------
    pathlib.Path
        The file written. It embeds plotly.js once and needs no network; it shows aggregates of the
        out-of-fold forecasts only, never a customer's row or identifier.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from crmine.campaign import UpliftModel
    >>> rng = np.random.default_rng(0)
    >>> n = 2000
    >>> age = rng.uniform(20, 70, n)
    >>> arm = rng.choice(["mail", "none"], n)
    >>> p = 0.1 + 0.2 * ((arm == "mail") & (age < 40))
    >>> frame = pd.DataFrame({"age": age, "arm": arm, "bought": (rng.random(n) < p).astype(int)})
    >>> model = UpliftModel(learners=("two_model",), bases=("linear",), cv=3)
    >>> model = model.fit(frame, outcome="bought", arm="arm", control="none")
    >>> out = uplift_card(model, f"{tempfile.mkdtemp()}/card.html")
    >>> "Candidates compared" in out.read_text(encoding="utf-8")
    True
    """
    from crmine.report._page import Section, render_page, write_page

    model._check_fitted()
    overview = Section("overview", "Overview",
                       f"An uplift model of {model.outcome_} ({model.kind_}) learnt from a randomised test: "
                       f"arm column {model.arm_column_}, control {model.control_}; one model per treatment arm.")
    overview.kpis([("rows modelled", f"{model.n_rows_:,}"), ("treatment arms", f"{len(model.arms_):,}"),
                   ("features used", f"{len(model.features_):,}"), ("folds", f"{model.cv}")])
    overview.table(pd.DataFrame({"arm": list(model.arms_), "chosen": [model.best_[a] for a in model.arms_]}))
    if model.dropped_:
        overview.note("Columns left out: " + "; ".join(f"{k} ({v})" for k, v in model.dropped_.items()) + ".")
    sections = [overview]
    for i, a in enumerate(model.arms_, start=1):
        sections += _arm_sections(model, a, i)
    html = render_page(
        sections,
        title=f"Uplift model card: {model.outcome_}",
        subtitle=f"Fitted on {source}" if source else f"{model.n_rows_:,} rows",
        footer="Built offline by crmine from the out-of-fold forecasts of the uplift model's cross-validation; "
               "no customer-level rows are shown.",
    )
    return write_page(html, path)
