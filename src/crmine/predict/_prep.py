"""Column typing, the target, the preprocessing pipelines and the training-data fingerprint.

A column is *categorical* when its dtype is object, string, bool or category; a numeric column stays
numeric however few levels it has (a 0/1 flag is a number to every candidate). Columns of other
dtypes (dates, timedeltas), the id column, columns with at most one distinct value and text
columns unique on every row (identifiers nobody declared) are dropped, and the reason is recorded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    SplineTransformer,
    StandardScaler,
)

from crmine.errors import SchemaError, SettingsError

# Labels taken as the positive class when present, in this order.
_CONVENTIONAL_POSITIVE: tuple[Any, ...] = ("Yes", "yes", "1", True, 1)


def is_categorical(s: pd.Series) -> bool:
    """True for object, string, bool and category columns."""
    d = s.dtype
    return (
        pd.api.types.is_object_dtype(d)
        or pd.api.types.is_string_dtype(d)
        or pd.api.types.is_bool_dtype(d)
        or isinstance(d, pd.CategoricalDtype)
    )


# A text column with a distinct value on every row of a frame larger than this is an identifier.
_ID_MIN_ROWS = 50


def split_columns(
    frame: pd.DataFrame, *, exclude: Sequence[Hashable]
) -> tuple[list[str], list[str], dict[str, str]]:
    """The numeric and categorical feature columns of ``frame``, and the dropped ones with why."""
    numeric: list[str] = []
    categorical: list[str] = []
    dropped: dict[str, str] = {}
    for col in frame.columns:
        if col in exclude:
            continue
        s = frame[col]
        if is_categorical(s):
            kind = categorical
        elif pd.api.types.is_numeric_dtype(s.dtype):
            kind = numeric
        else:
            dropped[str(col)] = f"unsupported dtype {s.dtype}"
            continue
        distinct = s.nunique(dropna=True)
        if distinct <= 1:
            dropped[str(col)] = "constant"
            continue
        if kind is categorical and distinct == len(s) > _ID_MIN_ROWS:
            # A text column unique on every row names rows rather than describing them.
            dropped[str(col)] = "unique on every row: an identifier? Declare it with --id (id_column)"
            continue
        kind.append(str(col))
    return numeric, categorical, dropped


def resolve_positive(target: pd.Series, positive: Any, *, name: str) -> tuple[Any, str]:
    """The positive label of a two-class ``target`` and the rule that picked it."""
    missing = int(target.isna().sum())
    if missing:
        raise SchemaError(
            f"Target column {name!r} has {missing} missing value(s). Drop or label those rows "
            "before fitting."
        )
    labels = list(pd.unique(target))
    if len(labels) != 2:
        raise SchemaError(
            f"Target column {name!r} must hold exactly two classes; it holds {len(labels)}. "
            "Recode it to two labels (e.g. Yes/No)."
        )
    if positive is not None:
        match = _matching_label(labels, positive)
        if match is None:
            raise SettingsError(
                f"positive={positive!r} is not a label of target column {name!r}. "
                "Pass one of its two labels, or None to pick it automatically."
            )
        return match, "given"
    for cand in _CONVENTIONAL_POSITIVE:
        for v in labels:
            if same_label(v, cand):
                return v, f"conventional label {cand!r}"
    counts = target.value_counts()
    return counts.index[-1], "minority class"


def _matching_label(labels: list, positive: Any) -> Any:
    """The label ``positive`` names, whatever its type: "1" on the command line is the integer
    label 1 (or 1.0, or True); a label is returned as the column holds it."""
    exact = [v for v in labels if same_label(v, positive)]
    if exact:
        return exact[0]
    wanted = _label_text(positive)
    spelled = [v for v in labels if _label_text(v) == wanted]
    return spelled[0] if len(spelled) == 1 else None


def _label_text(v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "1" if v else "0"
    text = str(v).strip().lower()
    if text in ("true", "false"):
        return "1" if text == "true" else "0"
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def as_binary(target: pd.Series, positive: Any) -> np.ndarray:
    """1 where ``target`` holds the ``positive`` label, else 0."""
    return target.map(lambda v: 1 if same_label(v, positive) else 0).to_numpy(dtype=int)


def same_label(a: Any, b: Any) -> bool:
    if isinstance(a, str) != isinstance(b, str):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class FrameCoercer(TransformerMixin, BaseEstimator):
    """Select the training features in order: numbers as float, categories as str (NaN kept)."""

    def __init__(self, numeric: Sequence[str] = (), categorical: Sequence[str] = ()) -> None:
        self.numeric = numeric
        self.categorical = categorical

    def fit(self, X: pd.DataFrame, y: Any = None) -> FrameCoercer:
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for c in self.numeric:
            out[c] = pd.to_numeric(X[c], errors="coerce").astype(float).to_numpy()
        for c in self.categorical:
            s = X[c]
            out[c] = np.where(s.isna().to_numpy(), np.nan, s.astype(str).to_numpy()).astype(object)
        return pd.DataFrame(out, index=X.index, columns=[*self.numeric, *self.categorical])


# A numeric column with more distinct values than this gets a spline basis in the additive model;
# fewer (flags, counts of a few levels) stay linear.
CONTINUOUS_MIN_LEVELS = 10


def continuous_columns(frame: pd.DataFrame, numeric: Sequence[str]) -> list[str]:
    """The numeric columns with more than ``CONTINUOUS_MIN_LEVELS`` distinct values."""
    return [c for c in numeric if frame[c].nunique(dropna=True) > CONTINUOUS_MIN_LEVELS]


def _signed_log(x: np.ndarray) -> np.ndarray:
    # Spending, tenure and counts are right-skewed; on a log scale the spline spends its knots
    # where the customers are. The sign keeps the transform defined (and monotone) for negatives.
    return np.sign(x) * np.log1p(np.abs(x))


def _spline_steps() -> list[tuple[str, Any]]:
    return [
        ("impute", SimpleImputer(strategy="median")),
        ("log", FunctionTransformer(_signed_log, feature_names_out="one-to-one")),
        ("spline", SplineTransformer(n_knots=5, degree=3, knots="quantile", extrapolation="linear")),
        ("scale", StandardScaler()),
    ]


def build_pipeline(
    estimator: Any,
    numeric: Sequence[str],
    categorical: Sequence[str],
    *,
    scale: bool,
    splines: Sequence[str] = (),
) -> Pipeline:
    """Coerce, impute (median / most frequent), scale numbers when ``scale``, one-hot categories.

    Numeric columns listed in ``splines`` get a cubic spline basis on a signed-log scale instead
    (knots at quantiles), which lets a linear model bend with them: a logistic additive model.
    """
    num_steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        num_steps.append(("scale", StandardScaler()))
    linear = [c for c in numeric if c not in set(splines)]
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            (
                "onehot",
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    min_frequency=0.01,
                    max_categories=50,
                    sparse_output=False,
                ),
            ),
        ]
    )
    transformers = []
    if splines:
        transformers.append(("spline", Pipeline(_spline_steps()), list(splines)))
    if linear:
        transformers.append(("num", Pipeline(num_steps), linear))
    if categorical:
        transformers.append(("cat", cat, list(categorical)))
    return Pipeline(
        [
            ("coerce", FrameCoercer(list(numeric), list(categorical))),
            ("prep", ColumnTransformer(transformers, remainder="drop")),
            ("model", estimator),
        ]
    )


def reference_values(X: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    """The training median of each numeric column and mode of each categorical one."""
    ref: dict[str, Any] = {}
    for c in numeric:
        med = pd.to_numeric(X[c], errors="coerce").median()
        ref[c] = float(med) if pd.notna(med) else 0.0
    for c in categorical:
        mode = X[c].dropna().astype(str).mode()
        ref[c] = mode.iloc[0] if len(mode) else np.nan
    return ref


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 of the column names, the row count and the sum of pandas' row hashes."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(str(len(frame)).encode())
    values = int(pd.util.hash_pandas_object(frame, index=False).sum()) if len(frame) else 0
    h.update(str(values).encode())
    return h.hexdigest()
