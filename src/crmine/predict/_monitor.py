"""Population stability: has a column's distribution moved between training and scoring?

PSI = sum over bins of (a - e) * ln(a / e), with e and a the shares of the expected (training) and
actual (scoring) rows in each bin. Numeric columns are cut at the expected sample's quantiles;
categorical ones use the expected levels plus one bin for unseen levels; missing values get a bin
of their own. Empty bins get a share of 1e-4 so the logarithm stays finite. Usual reading: below
0.1 stable, 0.1 to 0.25 moderate shift, above 0.25 a shift worth a refit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmine.errors import SchemaError
from crmine.predict._prep import is_categorical
from crmine.schema import require_columns

_EPS = 1e-4


def _shares(codes: np.ndarray, k: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=k).astype(float)
    share = counts / max(counts.sum(), 1.0)
    return np.maximum(share, _EPS)


def population_stability_index(expected: pd.Series, actual: pd.Series, *, bins: int = 10) -> float:
    """PSI of ``actual`` against ``expected`` (numeric: quantile bins of ``expected``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(range(1000))
    >>> population_stability_index(s, s)
    0.0
    """
    expected, actual = pd.Series(expected), pd.Series(actual)
    if len(expected) == 0 or len(actual) == 0:
        raise SchemaError("population_stability_index needs rows in both samples; one is empty.")
    if is_categorical(expected) or is_categorical(actual):
        e = expected.astype(object).where(expected.notna(), None)
        levels = pd.Index(pd.unique(e.dropna().astype(str)))
        def code(s: pd.Series) -> np.ndarray:
            c = levels.get_indexer(s.astype(str))
            c = np.where(c < 0, len(levels), c)  # unseen level
            return np.where(s.isna().to_numpy(), len(levels) + 1, c)
        k = len(levels) + 2
        ce, ca = code(expected), code(actual)
    else:
        ev = pd.to_numeric(expected, errors="coerce").to_numpy(float)
        av = pd.to_numeric(actual, errors="coerce").to_numpy(float)
        finite = ev[np.isfinite(ev)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1])) if len(finite) else np.array([])
        k = len(edges) + 2
        def code(v: np.ndarray) -> np.ndarray:
            c = np.searchsorted(edges, v, side="right")
            return np.where(np.isnan(v), k - 1, c)
        ce, ca = code(ev), code(av)
    e_sh, a_sh = _shares(ce, k), _shares(ca, k)
    return float(np.sum((a_sh - e_sh) * np.log(a_sh / e_sh)))


def psi_table(train_frame: pd.DataFrame, score_frame: pd.DataFrame, columns: Sequence[str], *, bins: int = 10) -> pd.DataFrame:
    """PSI of each of ``columns``, scoring frame against training frame, with a stability band."""
    for where, f in (("Training frame", train_frame), ("Scoring frame", score_frame)):
        require_columns(list(map(str, f.columns)), columns, where=where)
    rows = []
    for c in columns:
        psi = population_stability_index(train_frame[c], score_frame[c], bins=bins)
        band = "stable" if psi < 0.1 else "moderate" if psi <= 0.25 else "shift"
        rows.append({"column": c, "psi": psi, "band": band})
    return pd.DataFrame(rows, columns=["column", "psi", "band"])
