"""Brand choice on scanner data: the multinomial (conditional) logit of McFadden (1974).

At purchase occasion ``i`` the shopper picks one of the alternatives ``j = 1..J`` (brands). The
utility of ``j`` is

    V_ij = asc_j + sum_k beta_k * x_kij,      asc_1 = 0 (the first alternative alphabetically)

with alternative-specific constants ``asc_j`` and *generic* coefficients ``beta_k``, one per
attribute (price, feature, display), shared by every alternative. The choice probabilities are
``P_ij = exp(V_ij) / sum_m exp(V_im)`` (Train 2009, eq. 3.6) and the log-likelihood
``LL = sum_i log P_i,c(i)`` is concave; it is maximised by a trust-region Newton method with the
analytic gradient ``sum_i (x_i,c(i) - xbar_i)`` and Hessian
``-sum_i sum_j P_ij (x_ij - xbar_i)(x_ij - xbar_i)'`` where ``xbar_i = sum_j P_ij x_ij``
(Train 2009, section 3.7). Standard errors come from the inverse of minus the Hessian; with an id
column (a household), cluster-robust (sandwich) errors are reported as well.

Data come in *wide* form, one row per occasion: a column ``<attribute>.<alternative>`` per
attribute and alternative (``price.nabisco``) and a choice column naming the alternative bought.

Elasticities are aggregate *share* elasticities: the predicted market share of ``j`` is
``S_j = mean_i P_ij`` and the elasticity of ``S_j`` with respect to the price of ``m`` (every
occasion's price of ``m`` changed by the same proportion) is

    E_jm = beta_price * sum_i P_ij (delta_jm - P_im) price_im / sum_i P_ij

the probability-weighted average of the occasions' elasticities (Train 2009, section 3.6, weighted
by ``P_ij`` as in eq. 3.11's aggregation). Own (``m = j``): ``beta * sum P_ij (1 - P_ij) p_ij / sum
P_ij``; cross: ``-beta * sum P_ij P_im p_im / sum P_ij``. It is exactly d log S_j / d log p_m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from crmine.errors import ConvergenceError, NotFittedError, SchemaError, SettingsError

__all__ = ["ChoiceModel", "choice_alternatives"]

# Smallest eigenvalue of the information per occasion (columns at unit spread) below which the top
# is flat along some direction: the choices are (quasi-)separated and a coefficient runs to infinity.
FLAT = 1e-6


def choice_alternatives(columns: Sequence[str], attribute: str) -> list[str]:
    """The alternatives of ``attribute``: the suffixes of the columns named ``<attribute>.<alternative>``, sorted.

    >>> choice_alternatives(["id", "price.b", "price.a", "feat.a"], "price")
    ['a', 'b']
    """
    prefix = f"{attribute}."
    return sorted(str(c)[len(prefix):] for c in columns if str(c).startswith(prefix) and len(str(c)) > len(prefix))


class ChoiceModel:
    """Multinomial (conditional) logit of brand choice with alternative-specific constants.

    Parameters
    ----------
    attributes
        The attributes with a generic coefficient each; attribute ``a`` of alternative ``j`` is the
        column ``a.j``.
    price
        The attribute whose elasticities are reported; default ``"price"`` when it is one of the
        attributes, else none. It is added to ``attributes`` when missing.
    tol
        Largest gradient (in absolute value) accepted at the maximum.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"price.a": [1.0, 2.0, 1.5, 1.0, 2.0, 1.2], "price.b": [2.0, 1.0, 1.5, 1.8, 1.1, 1.3],
    ...                       "choice": ["a", "b", "a", "b", "b", "a"]})
    >>> model = ChoiceModel(attributes=["price"]).fit(frame, choice="choice")
    >>> model.alternatives_, list(model.coefficients_.index)
    (['a', 'b'], ['asc.b', 'price'])
    """

    def __init__(self, *, attributes: Sequence[str], price: str | None = None, tol: float = 1e-8) -> None:
        self.attributes = attributes
        self.price = price
        self.tol = tol

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, frame: pd.DataFrame, /, *, choice: str, id_column: str | None = None,
            source: str = "the table") -> ChoiceModel:
        """Fit by maximum likelihood on one row per purchase occasion; returns ``self``.

        Parameters
        ----------
        frame
            Wide table: the ``choice`` column and one ``<attribute>.<alternative>`` column per pair.
        choice
            Column naming the alternative chosen at each occasion.
        id_column
            Optional household (or occasion) id: carried through and used for cluster-robust errors;
            repeated ids are fine, each row is one occasion.
        source
            Name of the table in error messages.
        """
        attributes = self._attributes()
        self.price_ = self.price if self.price is not None else ("price" if "price" in attributes else None)
        if self.price_ is not None and self.price_ not in attributes:
            attributes.append(self.price_)
        if not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise SettingsError(f"tol must be a positive number; received {self.tol!r}. Use e.g. tol=1e-8.")
        alternatives = self._alternatives(frame, attributes, choice=choice, id_column=id_column, source=source)
        problems = []  # every problem of the cells and the labels in one error
        try:
            x = _design(frame, attributes, alternatives, source=source)
        except SchemaError as e:
            problems.append(str(e))
        try:
            chosen = _chosen(frame[choice], alternatives, choice=choice, source=source)
        except SchemaError as e:
            problems.append(str(e))
        if problems:
            raise SchemaError(" ".join(problems))
        _check_identified(x, chosen, attributes, alternatives, source=source)

        self.attributes_ = attributes
        self.alternatives_ = alternatives
        self.choice_ = choice
        self.id_column_ = id_column
        self.names_ = [f"asc.{a}" for a in alternatives[1:]] + attributes
        n, n_alt = chosen.size, len(alternatives)
        design = _with_constants(x, n_alt)
        theta, hessian, iterations = _maximise(design, chosen, tol=self.tol)
        self.params_ = theta
        self.iterations_ = iterations
        self.n_occasions_ = n
        self.log_likelihood_ = float(_log_likelihood(theta, design, chosen))
        self.null_log_likelihood_ = float(-n * math.log(n_alt))  # every coefficient 0: equal shares
        counts = np.bincount(chosen, minlength=n_alt)
        self.constants_log_likelihood_ = float(np.sum(counts * np.log(counts / n)))  # constants only
        self.rho2_ = 1.0 - self.log_likelihood_ / self.null_log_likelihood_
        cov = np.linalg.inv(-hessian)
        se = np.sqrt(np.diag(cov))
        z = theta / se
        table = pd.DataFrame({"estimate": theta, "std_error": se, "z": z, "p_value": 2 * stats.norm.sf(np.abs(z))},
                             index=pd.Index(self.names_, name="coefficient"))
        if id_column is not None:
            table["robust_std_error"] = _cluster_std_errors(theta, design, chosen, frame[id_column].to_numpy(), cov)
        self.covariance_ = pd.DataFrame(cov, index=self.names_, columns=self.names_)
        self.coefficients_ = table
        prob = _probabilities(theta, design)
        self.shares_ = pd.DataFrame({"observed": counts / n, "predicted": prob.mean(axis=0)},
                                    index=pd.Index(alternatives, name="alternative"))
        if self.price_ is not None:
            beta = theta[len(alternatives) - 1 + attributes.index(self.price_)]
            self.cross_elasticities_ = _share_elasticities(prob, x[:, :, attributes.index(self.price_)], beta,
                                                           alternatives)
            self.elasticities_ = pd.Series(np.diag(self.cross_elasticities_.to_numpy()), index=self.shares_.index,
                                           name="own_price_elasticity")
        else:
            self.cross_elasticities_ = pd.DataFrame()
            self.elasticities_ = pd.Series(dtype="float64", name="own_price_elasticity")
        return self

    def _attributes(self) -> list[str]:
        attrs = [self.attributes] if isinstance(self.attributes, str) else list(self.attributes or [])
        bad = [a for a in attrs if not isinstance(a, str) or not a]
        if not attrs or bad:
            raise SettingsError("Name at least one attribute, each a non-empty string, e.g. "
                                "ChoiceModel(attributes=['price', 'feat']); received "
                                f"{len(attrs)} with {len(bad)} invalid.")
        dupes = sorted({a for a in attrs if attrs.count(a) > 1})
        if dupes:
            raise SettingsError(f"Attributes are named more than once: {', '.join(dupes)}. Name each once.")
        return attrs

    @staticmethod
    def _alternatives(frame: pd.DataFrame, attributes: list[str], *, choice: str, id_column: str | None,
                      source: str) -> list[str]:
        columns = [str(c) for c in frame.columns]
        problems = [f"column {c!r} not found" for c in (choice, id_column) if c is not None and c not in columns]
        found = {a: choice_alternatives(columns, a) for a in attributes}
        for a in attributes:
            if not found[a]:
                problems.append(f"attribute {a!r} has no column named '{a}.<alternative>'")
        alternatives = sorted(set().union(*found.values()))
        for a in attributes:
            if found[a]:
                problems += [f"column '{a}.{j}' is missing (alternative {j!r} has it for another attribute)"
                             for j in alternatives if j not in found[a]]
        if not problems and len(alternatives) < 2:
            problems.append(f"only {len(alternatives)} alternative found; a choice needs at least 2")
        if problems:
            raise SchemaError(
                f"{source} does not hold a wide choice table: {'; '.join(problems)}. The rule: one row per "
                "occasion, the choice column, and a column '<attribute>.<alternative>' for every attribute and "
                f"alternative. Existing columns: {', '.join(columns)}. Rename or add the columns, or drop the "
                "attribute.")
        return alternatives

    # ---- predictions ------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError("This ChoiceModel is not fitted yet. Call fit(frame, choice='choice') first.")

    def predict_probabilities(self, frame: pd.DataFrame, /, *, source: str = "the table") -> pd.DataFrame:
        """Choice probability of each alternative (a column each) at each occasion (a row of ``frame``)."""
        self._check_fitted()
        self._alternatives(frame, self.attributes_, choice=None, id_column=None, source=source)  # same columns?
        x = _design(frame, self.attributes_, self.alternatives_, source=source)
        prob = _probabilities(self.params_, _with_constants(x, len(self.alternatives_)))
        return pd.DataFrame(prob, index=frame.index, columns=self.alternatives_)

    def predict_shares(self, frame: pd.DataFrame, /, *, source: str = "the table") -> pd.Series:
        """Predicted market share of each alternative: the mean of the occasions' probabilities."""
        return self.predict_probabilities(frame, source=source).mean(axis=0).rename("predicted_share")

    def summary(self) -> pd.DataFrame:
        """The coefficients: estimate, std_error, z, p_value (and robust_std_error with an id column)."""
        self._check_fitted()
        return self.coefficients_.copy()

    def to_dict(self) -> dict[str, Any]:
        """Everything fitted, as plain Python values (the CLI's JSON)."""
        self._check_fitted()
        coefs = {name: {k: float(v) for k, v in row.items()} for name, row in self.coefficients_.iterrows()}
        return {
            "coefficients": coefs,
            "log_likelihood": self.log_likelihood_,
            "null_log_likelihood": self.null_log_likelihood_,
            "constants_log_likelihood": self.constants_log_likelihood_,
            "rho2": self.rho2_,
            "n": self.n_occasions_,
            "alternatives": list(self.alternatives_),
            "reference": self.alternatives_[0],
            "attributes": list(self.attributes_),
            "price": self.price_,
            "shares": {a: {"observed": float(r.observed), "predicted": float(r.predicted)}
                       for a, r in self.shares_.iterrows()},
            "elasticities": {a: float(v) for a, v in self.elasticities_.items()},
            "cross_elasticities": {a: {m: float(v) for m, v in row.items()}
                                   for a, row in self.cross_elasticities_.iterrows()},
            "elasticity_definition": "share elasticity: d log(mean_i P_ij) / d log(price_m)",
            "iterations": self.iterations_,
        }


# ---- the data -------------------------------------------------------------------------------
def _design(frame: pd.DataFrame, attributes: list[str], alternatives: list[str], *, source: str) -> np.ndarray:
    """The (occasions, alternatives, attributes) array; every cell must be a finite number."""
    problems = []
    x = np.empty((len(frame), len(alternatives), len(attributes)))
    for k, a in enumerate(attributes):
        for j, alt in enumerate(alternatives):
            col = f"{a}.{alt}"
            raw = frame[col]
            values = pd.to_numeric(raw, errors="coerce") if raw.dtype.kind not in "biuf" else raw.astype("float64")
            bad_text = int((values.isna() & raw.notna()).sum())
            missing = int(raw.isna().sum())
            infinite = int(np.isinf(values.to_numpy(dtype="float64", na_value=np.nan)).sum())
            if bad_text or missing or infinite:
                what = [f"{n:,} {w}" for n, w in ((bad_text, "not numeric"), (missing, "missing"),
                                                  (infinite, "infinite")) if n]
                problems.append(f"{col!r} ({', '.join(what)})")
            x[:, j, k] = values.to_numpy(dtype="float64", na_value=np.nan)
    if problems:
        raise SchemaError(f"Attribute columns of {source} must hold a finite number in every row: "
                          f"{'; '.join(problems)}. Clean or drop those rows before fitting.")
    return x


def _chosen(values: pd.Series, alternatives: list[str], *, choice: str, source: str) -> np.ndarray:
    """The index of the chosen alternative at each occasion."""
    labels = values.astype("string").str.strip()
    codes = pd.Categorical(labels, categories=alternatives).codes
    missing = int(labels.isna().sum())
    unknown = labels[(codes < 0) & labels.notna()]
    if missing or len(unknown):
        counts = unknown.value_counts()
        named = ", ".join(f"{v!r} ({n:,} rows)" for v, n in counts.head(10).items())
        parts = ([f"{missing:,} rows have no choice"] if missing else []) + (
            [f"{len(unknown):,} rows name no alternative: {named}"] if len(unknown) else [])
        raise SchemaError(
            f"Column {choice!r} of {source} must name one of the alternatives ({', '.join(alternatives)}), the "
            f"suffixes of the attribute columns: {'; '.join(parts)}. Fix the labels, or add the attribute columns "
            "of the missing alternatives, or drop those rows.")
    if len(values) == 0:
        raise SchemaError(f"{source} has no rows: a choice model needs purchase occasions.")
    never = [a for j, a in enumerate(alternatives) if not np.any(codes == j)]
    if never:
        raise SchemaError(
            f"Alternatives never chosen in {len(values):,} occasions of {source}: {', '.join(never)}. Their "
            "constants have no finite estimate; drop their '<attribute>.<alternative>' columns.")
    return np.asarray(codes, dtype=np.intp)


def _check_identified(x: np.ndarray, chosen: np.ndarray, attributes: list[str], alternatives: list[str],
                      *, source: str) -> None:
    """Raise if the design is singular: an attribute that does not vary across alternatives, or that
    moves only with the alternative (collinear with the constants or with other attributes)."""
    diff = x - x[:, :1, :]  # only differences between alternatives enter the likelihood
    constant = [a for k, a in enumerate(attributes) if not np.any(diff[:, :, k])]
    if constant:
        raise SchemaError(
            f"Singular design on {source}: {', '.join(constant)} never differ(s) across alternatives within an "
            "occasion, so its coefficient is not identified (the rule: an attribute must vary across the "
            "alternatives). Drop it from the attributes.")
    design = _with_constants(x, len(alternatives))
    flat = (design - design[:, :1, :])[:, 1:, :].reshape(-1, design.shape[2])
    scale = np.abs(flat).max(axis=0)
    rank = np.linalg.matrix_rank(flat / np.where(scale > 0, scale, 1.0))
    if rank < flat.shape[1]:
        raise SchemaError(
            f"Singular design on {source}: the attributes {', '.join(attributes)} and the alternative constants "
            f"are collinear (rank {rank} of {flat.shape[1]}); e.g. an attribute that only changes with the "
            "alternative duplicates its constant. Drop one of the collinear attributes.")


def _with_constants(x: np.ndarray, n_alt: int) -> np.ndarray:
    """Prepend the alternative-specific constant dummies (all but the reference alternative)."""
    n = x.shape[0]
    dummies = np.broadcast_to(np.eye(n_alt)[:, 1:], (n, n_alt, n_alt - 1))
    return np.concatenate([dummies, x], axis=2)


# ---- the likelihood -------------------------------------------------------------------------
def _utilities(theta: np.ndarray, design: np.ndarray) -> np.ndarray:
    return design @ theta


def _probabilities(theta: np.ndarray, design: np.ndarray) -> np.ndarray:
    v = _utilities(theta, design)
    return np.exp(v - special.logsumexp(v, axis=1, keepdims=True))


def _log_likelihood(theta: np.ndarray, design: np.ndarray, chosen: np.ndarray) -> float:
    v = _utilities(theta, design)
    return float(np.sum(v[np.arange(v.shape[0]), chosen]) - np.sum(special.logsumexp(v, axis=1)))


def _scores(theta: np.ndarray, design: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Per-occasion gradients x_i,c(i) - xbar_i (Train 2009, eq. 3.7's derivative)."""
    p = _probabilities(theta, design)
    xbar = np.einsum("ij,ijk->ik", p, design)
    return design[np.arange(design.shape[0]), chosen] - xbar


def _hessian(theta: np.ndarray, design: np.ndarray) -> np.ndarray:
    p = _probabilities(theta, design)
    centred = design - np.einsum("ij,ijk->ik", p, design)[:, None, :]
    return -np.einsum("ij,ijk,ijl->kl", p, centred, centred)


def _maximise(design: np.ndarray, chosen: np.ndarray, *, tol: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Newton trust-region ascent from 0 on columns scaled to unit spread (prices in cents and 0/1
    dummies then share one scale), polished by plain Newton steps: near the top the likelihood's
    change falls below double precision before its gradient does. Estimates and Hessian are mapped back."""
    spread = design.reshape(-1, design.shape[2]).std(axis=0)
    scale = np.where(spread > 0, spread, 1.0)
    scaled = design / scale
    n = chosen.size
    res = optimize.minimize(
        lambda t: -_log_likelihood(t, scaled, chosen) / n, np.zeros(scaled.shape[2]), method="trust-exact",
        jac=lambda t: -_scores(t, scaled, chosen).sum(axis=0) / n, hess=lambda t: -_hessian(t, scaled) / n,
        options={"gtol": tol, "maxiter": 500})
    t = res.x
    grad = _scores(t, scaled, chosen).mean(axis=0)
    for _ in range(5):  # the likelihood is concave: Newton steps from near the top converge quadratically
        if not np.all(np.isfinite(grad)) or np.max(np.abs(grad)) <= tol:
            break
        step = np.linalg.solve(-_hessian(t, scaled) / n, grad)
        t_new = t + step
        grad_new = _scores(t_new, scaled, chosen).mean(axis=0)
        if not np.max(np.abs(grad_new)) < np.max(np.abs(grad)):
            break
        t, grad = t_new, grad_new
    if not np.all(np.isfinite(t)) or not np.max(np.abs(grad)) <= max(tol, 1e-7):
        raise ConvergenceError(
            f"The choice model did not converge after {res.nit} iterations ({res.message}); largest gradient "
            f"{np.max(np.abs(grad)):.2g} per occasion. Try fewer attributes, check that no attribute separates the "
            "choices perfectly, or rescale the attributes, e.g. "
            "ChoiceModel(attributes=['price', 'feat']).fit(frame, choice='choice').")
    flat = np.linalg.eigvalsh(-_hessian(t, scaled) / n).min()
    if flat < FLAT:  # the likelihood still rises towards a limit along some direction
        raise ConvergenceError(
            "The choice model has no finite maximum: the attributes (or constants) separate the choices "
            f"perfectly (the information is flat along one direction, eigenvalue {flat:.1e} per occasion). "
            "Drop the attribute that decides the choice by itself, or an alternative that is almost never chosen, "
            "e.g. ChoiceModel(attributes=['price', 'feat']).fit(frame, choice='choice').")
    theta = t / scale
    return theta, _hessian(theta, design), int(res.nit)


def _cluster_std_errors(theta: np.ndarray, design: np.ndarray, chosen: np.ndarray, ids: np.ndarray,
                        cov: np.ndarray) -> np.ndarray:
    """Sandwich errors clustered by id: cov * (sum_g s_g s_g') * cov * G/(G-1) (occasions of one
    household are not independent)."""
    scores = _scores(theta, design, chosen)
    codes, groups = pd.factorize(pd.Series(ids), use_na_sentinel=False)
    n_groups = len(groups)
    summed = np.zeros((n_groups, scores.shape[1]))
    np.add.at(summed, codes, scores)
    meat = summed.T @ summed
    robust = cov @ meat @ cov * (n_groups / max(n_groups - 1, 1))
    return np.sqrt(np.diag(robust))


def _share_elasticities(prob: np.ndarray, price: np.ndarray, beta: float, alternatives: list[str]) -> pd.DataFrame:
    """E[j, m] = d log S_j / d log p_m = beta * sum_i P_ij (delta_jm - P_im) p_im / sum_i P_ij."""
    weighted = prob.T @ (prob * price)  # [j, m] = sum_i P_ij P_im p_im
    own = np.sum(prob * price, axis=0)  # [j] = sum_i P_ij p_ij
    e = -beta * weighted
    e[np.diag_indices_from(e)] += beta * own
    e /= prob.sum(axis=0)[:, None]
    index = pd.Index(alternatives, name="share_of")
    return pd.DataFrame(e, index=index, columns=pd.Index(alternatives, name="price_of"))
