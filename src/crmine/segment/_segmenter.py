"""Clustering segmentation of a customer table: :class:`Segmenter`."""

from __future__ import annotations

import warnings
from typing import Any, Self

import numpy as np
import pandas as pd

from crmine.errors import NotFittedError, SchemaError, SettingsError
from crmine.segment._naming import segment_names

__all__ = ["DEFAULT_FEATURES", "METHODS", "Segmenter"]

DEFAULT_FEATURES = (
    "orders",
    "spend",
    "avg_order_value",
    "recency_days",
    "ipt_mean_days",
    "age",
    "income",
    "discount_rate",
    "return_rate",
)
SHARE_PREFIX = "share_"
METHODS = ("kmeans", "gmm")
SILHOUETTE_SAMPLE = 10_000
MIN_ROWS_PER_SEGMENT = 5
CLIP = 3.0
Z_DECIMALS = 9
KMEANS_INITS = 4
GMM_INITS = 2
GMM_REG_COVAR = 1e-3  # shares of one customer sum to 1; a small ridge keeps covariances invertible
TOP_FEATURES = 3
# Two segments rarely help a marketer and more than eight are too many to act on.
DEFAULT_K_RANGE = (3, 8)


def _is_int(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool)


class Segmenter:
    """Segments customers by clustering their features (k-means or a Gaussian mixture).

    Parameters
    ----------
    method
        ``"kmeans"`` or ``"gmm"`` (Gaussian mixture with full covariances).
    k
        Number of segments; None chooses it in ``k_range``.
    k_range
        Smallest and largest number of segments tried (both included) when ``k`` is None;
        shrunk, with a warning, when there are too few customers for the largest (see Notes).
    features
        Numeric columns to cluster on; None uses the defaults (see Notes).
    seed
        Seed of the initialisations and of the silhouette sample: the same seed and data give
        the same segments.

    Attributes
    ----------
    labels_
        Segment of every customer (index: ``customer_id`` when the frame has that column,
        else the frame's index).
    k_
        The number of segments.
    k_range_
        The smallest and largest k actually tried (``(k, k)`` when ``k`` was given).
    features_
        The columns used.
    selection_curve_
        One row per k tried: ``k``, ``silhouette`` and ``inertia`` (k-means) or ``bic``
        (Gaussian mixture), and ``chosen``; drawn by :func:`plot_selection_curve`.
    centers_
        Per segment and feature, the z-score of the segment's mean against the overall mean,
        measured on the preprocessed features.
    profile_
        Per segment: a ``name`` in words ("young online bargain hunters", unique within the
        fit; see Notes), ``size``, ``share``, ``mean_spend`` and ``mean_value``
        (when the frame has ``spend`` or ``clv``), the three features that set it apart most
        (``feature_1``, ``z_1``, ...) and a one-line ``description``.

    Notes
    -----
    Preprocessing, learned in ``fit`` and replayed by ``predict``:

    1. **features**: the numeric columns named in ``features``; by default those of
       :data:`DEFAULT_FEATURES` present in the frame plus every numeric ``share_*`` column
       (category, channel and sales-method shares of the customer table), leaving out columns
       with no value;
    2. **missing values** are replaced by the column's median;
    3. **skewed money and count columns** get ``log1p``: a column is logged when its values are
       all >= 0, its maximum exceeds 1 (shares and rates stay as they are) and its skewness
       exceeds 1;
    4. **standardisation** to mean 0 and standard deviation 1 (a constant column becomes 0),
       then clipping to [-3, 3], so that a handful of extreme customers cannot claim a segment of
       their own.

    The number of segments, unless given, is the one in ``k_range`` with the highest silhouette
    for k-means (scored on a seeded sample of at most 10,000 customers) or the lowest BIC for a
    Gaussian mixture. A fit needs at least 5 customers per segment: with fewer than 5 times the
    largest k of ``k_range``, the range shrinks to what the customers allow and a
    ``UserWarning`` says so; a given ``k`` too large for them, or fewer than 10 customers, is an
    error.

    A segment's name comes from its row of ``centers_``: its (at most three) strongest traits
    of at least 0.3 sd, in the words of a vocabulary of customer-table columns (``age`` below
    average is "young", ``discount_rate`` above is "bargain hunters", ``share_channel_web``
    above is "online"), and ``"high <column>"`` / ``"low <column>"`` for other columns. Two
    segments that come out the same take one more trait each until they differ.

    The result depends on the data only, not on the order of its rows: the rows are put in
    order of ``customer_id`` (or the index), ties broken by the feature values, before anything
    order-sensitive, and segments are numbered 0, 1, ... from the largest to the smallest,
    equal sizes in order of their first customer.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(60)],
    ...     "orders": np.r_[rng.poisson(2, 40), rng.poisson(20, 20)],
    ...     "age": np.r_[rng.normal(30, 3, 40), rng.normal(60, 3, 20)]})
    >>> seg = Segmenter(k_range=(2, 4)).fit(frame)
    >>> seg.k_, seg.labels_.value_counts().tolist()
    (2, [40, 20])
    >>> seg.profile_.loc[0, "description"]
    'low age (-0.7 sd), low orders (-0.7 sd)'
    >>> seg.profile_["name"].tolist()
    ['young occasional buyers', 'older regulars']
    """

    def __init__(
        self,
        *,
        method: str = "kmeans",
        k: int | None = None,
        k_range: tuple[int, int] = DEFAULT_K_RANGE,
        features: list[str] | tuple[str, ...] | None = None,
        seed: int = 0,
    ) -> None:
        self.method = method
        self.k = k
        self.k_range = k_range
        self.features = features
        self.seed = seed

    def __repr__(self) -> str:
        state = f"fitted: k={self.k_}" if hasattr(self, "k_") else "not fitted"
        return f"<Segmenter method={self.method!r} {state}>"

    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__``."""
        return {
            "method": self.method,
            "k": self.k,
            "k_range": self.k_range,
            "features": self.features,
            "seed": self.seed,
        }

    # ---- validation ------------------------------------------------------------------------
    def _candidate_ks(self) -> list[int]:
        problems = []
        if self.method not in METHODS:
            problems.append(f"method must be one of {', '.join(METHODS)}; received {self.method!r}")
        if self.k is not None and not (_is_int(self.k) and self.k >= 2):
            problems.append(f"k must be None or an integer >= 2; received {self.k!r}")
        kr = self.k_range
        if not (
            isinstance(kr, tuple | list)
            and len(kr) == 2
            and all(_is_int(v) for v in kr)
            and 2 <= kr[0] <= kr[1]
        ):
            problems.append(
                f"k_range must be two integers (lo, hi) with 2 <= lo <= hi; received {kr!r}"
            )
        if not (_is_int(self.seed) and self.seed >= 0):
            problems.append(f"seed must be a non-negative integer; received {self.seed!r}")
        if self.features is not None and (
            isinstance(self.features, str)
            or not all(isinstance(f, str) for f in self.features)
            or len(self.features) == 0
        ):
            problems.append("features must be None or a non-empty list of column names")
        if problems:
            raise SettingsError(f"Segmenter settings break the rules: {'; '.join(problems)}.")
        return [int(self.k)] if self.k is not None else list(range(int(kr[0]), int(kr[1]) + 1))

    def _choose_features(self, frame: pd.DataFrame) -> list[str]:
        cols = list(map(str, frame.columns))
        if self.features is not None:
            missing = [f for f in self.features if f not in cols]
            if missing:
                raise SchemaError(
                    f"Segmenter: unknown feature(s) {', '.join(missing)}. "
                    f"Existing columns: {', '.join(cols) or '(none)'}."
                )
            chosen = list(dict.fromkeys(self.features))
            bad = [f for f in chosen if not _numeric(frame[f])]
            empty = [f for f in chosen if f not in bad and frame[f].isna().all()]
            problems = []
            if bad:
                problems.append(f"not numeric: {', '.join(bad)}")
            if empty:
                problems.append(f"without any value: {', '.join(empty)}")
            if problems:
                raise SchemaError(
                    f"Segmenter features must be numeric columns with values; {'; '.join(problems)}. "
                    "Encode categories as numbers (for instance shares) or leave them out."
                )
            return chosen
        chosen = [f for f in DEFAULT_FEATURES if f in cols]
        chosen += [c for c in cols if c.startswith(SHARE_PREFIX) and c not in chosen]
        chosen = [f for f in chosen if _numeric(frame[f]) and not frame[f].isna().all()]
        if not chosen:
            raise SchemaError(
                f"Segmenter found none of its default features ({', '.join(DEFAULT_FEATURES)}, "
                f"{SHARE_PREFIX}*) with values. Existing columns: {', '.join(cols) or '(none)'}. "
                "Name the columns to use with Segmenter(features=[...])."
            )
        return chosen

    # ---- preprocessing ---------------------------------------------------------------------
    def _learn_preprocessing(self, X: pd.DataFrame) -> None:
        self.medians_ = X.median()
        filled = X.fillna(self.medians_)
        logged = [
            c
            for c in X.columns
            if filled[c].min() >= 0 and filled[c].max() > 1 and (filled[c].skew() or 0.0) > 1
        ]
        self.log_features_ = logged
        filled[logged] = np.log1p(filled[logged])
        self.mean_ = filled.mean()
        sd = filled.std(ddof=0)
        self.scale_ = sd.where(sd > 0, 1.0)

    def _transform(self, X: pd.DataFrame) -> np.ndarray:
        Z = X.fillna(self.medians_)
        if self.log_features_:
            Z[self.log_features_] = np.log1p(Z[self.log_features_].clip(lower=0))
        Z = (Z - self.mean_) / self.scale_
        # The warehouse sums in parallel, so the same data can come back differing in the last
        # bits; rounding far below any real difference keeps that noise out of the clustering.
        return np.round(np.clip(Z.to_numpy(dtype=float), -CLIP, CLIP), Z_DECIMALS)

    def _frame_parts(self, frame: Any, where: str) -> tuple[pd.Index, pd.DataFrame]:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(
                f"Segmenter.{where} takes a pandas DataFrame with one row per customer; received "
                f"{type(frame).__name__}. Run an Ibis table first with wh.execute(table)."
            )
        if "customer_id" in frame.columns:
            index = pd.Index(frame["customer_id"].to_numpy(), name="customer_id")
        else:
            index = frame.index
        return index, frame

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, /) -> Self:
        """Choose the number of segments (unless given) and cluster the customers of ``frame``.

        Parameters
        ----------
        frame
            One row per customer, for instance ``crmine.features.customer_table`` executed.

        Returns
        -------
        Segmenter
            This estimator, fitted.
        """
        ks = self._candidate_ks()
        index, frame = self._frame_parts(frame, "fit")
        features = self._choose_features(frame)
        ks = self._fit_range(ks, len(frame))
        # Everything order-sensitive (float sums, k-means seeding, the silhouette sample) runs
        # on the rows in one canonical order, so the same customers in any row order get the
        # same segments; labels_ goes back to the caller's order at the end.
        order = _canonical_order(index, frame[features])
        index, frame = index[order], frame.iloc[order]
        n = len(frame)
        X = frame[features].astype("float64")
        self._learn_preprocessing(X)
        Z = self._transform(X)
        rng = np.random.default_rng(self.seed)
        sample = np.sort(rng.choice(n, size=min(n, SILHOUETTE_SAMPLE), replace=False))
        rows, models = [], {}
        for k in ks:
            model, score = self._fit_one(Z, k, sample)
            models[k] = model
            rows.append({"k": k, **score})
        curve = pd.DataFrame(rows)
        if len(ks) == 1:
            best = ks[0]
        elif self.method == "kmeans":
            best = int(curve.loc[curve["silhouette"].fillna(-np.inf).idxmax(), "k"])
        else:
            best = int(curve.loc[curve["bic"].idxmin(), "k"])
        curve["chosen"] = curve["k"] == best
        self.selection_curve_ = curve
        self.k_range_ = (ks[0], ks[-1])
        self.model_ = models[best]
        raw = self.model_.predict(Z)
        self._relabel = _canonical_labels(raw, best)
        self.features_ = features
        self.k_ = best
        labels = self._relabel[raw]
        self._profile(frame, Z, labels)
        back = np.empty(n, dtype=np.int64)
        back[order] = np.arange(n)
        self.labels_ = pd.Series(labels[back], index=index[back], name="segment")
        return self

    def _fit_range(self, ks: list[int], n: int) -> list[int]:
        """The ks to try on ``n`` customers: a range too large for them shrinks, with a warning."""
        largest = n // MIN_ROWS_PER_SEGMENT
        if ks[-1] <= largest:
            return ks
        if self.k is not None or largest < 2:
            raise SchemaError(
                f"Segmenter needs at least {MIN_ROWS_PER_SEGMENT} customers per segment: "
                f"{MIN_ROWS_PER_SEGMENT * ks[-1]} rows for {ks[-1]} segments; received {n}. "
                + (
                    "Pass a smaller k, or more customers."
                    if self.k is not None
                    else f"Segmenting needs at least {2 * MIN_ROWS_PER_SEGMENT} customers."
                )
            )
        shrunk = list(range(min(ks[0], largest), largest + 1))
        warnings.warn(
            f"Segmenter: {n} customers allow at most {largest} segments of "
            f"{MIN_ROWS_PER_SEGMENT} or more, so k is chosen in {shrunk[0]}..{shrunk[-1]} "
            f"instead of {ks[0]}..{ks[-1]}. Pass k or k_range to choose yourself.",
            UserWarning,
            stacklevel=3,
        )
        return shrunk

    def _fit_one(self, Z: np.ndarray, k: int, sample: np.ndarray) -> tuple[Any, dict[str, float]]:
        if self.method == "kmeans":
            from sklearn.cluster import KMeans
            from sklearn.metrics import silhouette_score

            model = KMeans(n_clusters=k, n_init=KMEANS_INITS, random_state=self.seed).fit(Z)
            labels = model.labels_[sample]
            sil = (
                float(silhouette_score(Z[sample], labels))
                if 1 < np.unique(labels).size < sample.size
                else np.nan
            )
            return model, {"silhouette": sil, "inertia": float(model.inertia_)}
        from sklearn.mixture import GaussianMixture

        model = GaussianMixture(
            n_components=k,
            covariance_type="full",
            reg_covar=GMM_REG_COVAR,
            n_init=GMM_INITS,
            random_state=self.seed,
        ).fit(Z)
        return model, {"bic": float(model.bic(Z))}

    def _profile(self, frame: pd.DataFrame, Z: np.ndarray, labels: np.ndarray) -> None:
        zdf = pd.DataFrame(Z, columns=self.features_)
        sd = zdf.std(ddof=0)
        centers = (zdf.groupby(labels).mean() - zdf.mean()) / sd.where(sd > 0, 1.0)
        centers.index.name = "segment"
        self.centers_ = centers
        sizes = pd.Series(labels).value_counts().reindex(centers.index, fill_value=0)
        prof = pd.DataFrame({"size": sizes.astype("int64"), "share": sizes / sizes.sum()})
        for col, name in (("spend", "mean_spend"), ("clv", "mean_value")):
            if col in frame.columns and _numeric(frame[col]):
                prof[name] = pd.Series(frame[col].to_numpy(dtype=float)).groupby(labels).mean()
        descriptions = []
        n_top = min(TOP_FEATURES, len(self.features_))
        for seg, row in centers.iterrows():
            top = row.abs().sort_values(ascending=False, kind="stable").index[:n_top]
            parts = []
            for i, f in enumerate(top, start=1):
                prof.loc[seg, f"feature_{i}"] = f
                prof.loc[seg, f"z_{i}"] = float(row[f])
                parts.append(f"{'high' if row[f] >= 0 else 'low'} {f} ({row[f]:+.1f} sd)")
            descriptions.append(", ".join(parts))
        prof["description"] = descriptions
        prof.insert(0, "name", segment_names(centers))
        prof.index.name = "segment"
        self.profile_ = prof

    # ---- using the fit ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError("This Segmenter is not fitted yet: call .fit(frame) first.")

    def predict(self, frame: pd.DataFrame, /) -> pd.Series:
        """The segment of each customer of ``frame`` (which needs the fitted feature columns)."""
        self._check_fitted()
        index, frame = self._frame_parts(frame, "predict")
        missing = [f for f in self.features_ if f not in frame.columns]
        if missing:
            raise SchemaError(
                f"Segmenter.predict: the frame lacks the fitted feature(s) {', '.join(missing)}."
            )
        Z = self._transform(frame[self.features_].astype("float64"))
        return pd.Series(self._relabel[self.model_.predict(Z)], index=index, name="segment")

    @property
    def summary(self) -> pd.DataFrame:
        """The segment profile (:attr:`profile_`): size, share, value and what sets each apart."""
        self._check_fitted()
        out = self.profile_.copy()
        out.attrs.update(method=self.method, k=self.k_, features=list(self.features_))
        return out


def _canonical_order(index: pd.Index, X: pd.DataFrame) -> np.ndarray:
    """Positions that sort the rows by customer (the index), ties by the feature values."""
    keys = pd.DataFrame(X.to_numpy(dtype="float64"), columns=range(1, X.shape[1] + 1))
    try:
        keys.insert(0, 0, index.to_numpy())
        return keys.sort_values(list(keys.columns), kind="mergesort").index.to_numpy()
    except TypeError:  # ids of mixed types (1 and "1") only compare as text
        keys[0] = index.astype(str).to_numpy()
        return keys.sort_values(list(keys.columns), kind="mergesort").index.to_numpy()


def _canonical_labels(raw: np.ndarray, k: int) -> np.ndarray:
    """Map from a model's cluster ids to segments numbered by size, largest first.

    Equal sizes are ordered by the first row (in canonical order) of each cluster, so the
    numbering depends on the data only and not on how the model happened to number clusters.
    """
    sizes = np.bincount(raw, minlength=k)
    first = np.full(k, len(raw))
    np.minimum.at(first, raw, np.arange(len(raw)))
    order = np.lexsort((first, -sizes))  # new label i is old label order[i]
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    return relabel


def _numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)
