"""The model card: one offline HTML page that shows how a fitted ModelSearch was chosen.

It holds the cross-validated comparison of the candidates and the baseline, the cumulative gains
of every one of them, the calibration of the best and its top drivers. Like the analysis report it
shows only aggregates of the out-of-fold forecasts, never a customer's row.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from crmine.report._page import Section, render_page, write_page

if TYPE_CHECKING:
    from crmine.predict import ModelSearch

__all__ = ["build_model_card"]

# results_ column -> label in the candidates table
_COLUMNS = {
    "roc_auc_mean": "ROC AUC",
    "pr_auc_mean": "PR AUC",
    "log_loss_mean": "log loss",
    "brier_mean": "Brier",
    "lift_top_decile_mean": "lift top decile",
    "gains_at_20_mean": "gains at 20%",
}


def _candidates_table(search: ModelSearch) -> pd.DataFrame:
    """One row per candidate (baseline included): the fold means of every metric and a best flag."""
    out = search.results_[list(_COLUMNS)].rename(columns=_COLUMNS)
    out.insert(0, "candidate", [str(c) for c in out.index])
    out["best"] = out["candidate"] == search.best_
    return out.reset_index(drop=True)


def build_model_card(
    search: ModelSearch, /, *, path: str | os.PathLike, source: str | None = None
) -> Path:
    """Write the model card of a fitted search as one self-contained HTML file.

    Parameters
    ----------
    search
        A fitted (or loaded) ModelSearch.
    path
        Where to write; the file is replaced atomically and its folder created when missing.
    source
        What the search was fitted on (e.g. the file name), shown under the title.

    Returns
    -------
    pathlib.Path
        The file written. It embeds plotly.js once and needs no network.

    Examples
    --------
    >>> import tempfile, numpy as np, pandas as pd
    >>> from crmine.predict import ModelSearch
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=300)
    >>> frame = pd.DataFrame({"x": x, "noise": rng.normal(size=300),
    ...                       "bought": np.where(x + rng.normal(size=300) > 1, "yes", "no")})
    >>> search = ModelSearch(target="bought", candidates=("logistic",), cv=3).fit(frame)
    >>> out = build_model_card(search, path=f"{tempfile.mkdtemp()}/card.html")
    >>> "Candidates compared" in out.read_text(encoding="utf-8")
    True
    """
    from crmine.predict import calibration_figure, gains_figure, importance_figure

    best = search.best_
    # The figures check that the search is fitted; build them before reading any table.
    gains = gains_figure(search, list(search.results_.index))
    calibration = calibration_figure(search)
    importance = importance_figure(search, top=10)

    metric = search.metric
    compared = Section(
        "candidates",
        "Candidates compared",
        f"Every candidate and a naive one-column baseline were scored on the same {search.cv} "
        f"stratified folds; each number is the mean over the folds, and the best on {metric} is "
        "flagged and refitted on all rows.",
    )
    compared.kpis(
        [
            ("best candidate", best),
            ("rows", f"{search.n_rows_:,}"),
            (
                f"positive rate ({search.target} = {search.positive_})",
                f"{search.positive_rate_:.1%}",
            ),
            ("features used", f"{len(search.features_):,}"),
        ]
    )
    compared.table(_candidates_table(search), percent=("gains at 20%",))
    if search.dropped_:
        compared.note(
            "Columns left out: " + ", ".join(f"{k} ({v})" for k, v in search.dropped_.items()) + "."
        )

    targeting = Section(
        "gains",
        "Cumulative gains",
        "Customers sorted by out-of-fold score, highest first: the higher a curve rises above the "
        "diagonal, the more positives a campaign reaches by contacting the top-scored share.",
    )
    targeting.figure(gains)

    calibrated = Section(
        "calibration",
        f"Calibration of {best}",
        "Out-of-fold forecasts grouped into probability bins: on the diagonal, a forecast of 30% "
        "means that 30% of such customers turned out positive.",
    )
    calibrated.figure(calibration)

    drivers = Section(
        "drivers",
        "Top predictors",
        f"How much the held-out ROC AUC of {best} drops when one column is shuffled; the bars show "
        "the mean over repeats and the whiskers their standard deviation.",
    )
    if len(search.permutation_importance_):
        drivers.figure(importance)
    else:
        drivers.note("No permutation importance was computed.")

    html = render_page(
        [compared, targeting, calibrated, drivers],
        title=f"Model card: {search.target}",
        subtitle=f"Fitted on {source}" if source else f"{search.n_rows_:,} rows",
        footer="Built offline by crmine from the out-of-fold forecasts of the model search; "
        "no customer-level rows are shown.",
    )
    return write_page(html, path)
