"""What every BTYD model shares: validation, fitting, standard errors, summaries, persistence, plots.

A concrete model states its parameters, its log-likelihood per row and its predictions; everything
else lives here. Fitting works on sufficient statistics: the data are compressed to their unique
rows with a count each (a million customers of one cohort have ~5,000 distinct (x, t_x, T) rows,
of a quarter's cohorts ~120,000), so a fit scales with distinct histories, not customers.

Parameters are optimised on the log scale (all are positive): L-BFGS-B with finite-difference (or
analytic) gradients, then a few Newton steps with a numerical Hessian to polish the optimum. The
same Hessian of the negative log-likelihood, in the log space, gives the standard errors, carried
back to the natural scale by the delta method (se(theta) = theta * se(log theta)).
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import linalg, optimize

from crmine import _atomic
from crmine._version import __version__
from crmine.errors import (
    ConvergenceError,
    ModelMismatchError,
    NotFittedError,
    SchemaError,
    SettingsError,
)
from crmine.schema import require_columns

__all__ = ["BaseModel", "TransactionModel", "compress", "as_time"]

_FORMAT = "crmine.clv.model/1"
_LOG_BOUND = 23.0  # exp(23) ~ 1e10: a parameter that runs there has diverged
_RFM_HINT = (
    "Build the table with crmine.clv.rfm_summary(transactions, observation_end=...), which names "
    "the columns frequency, recency and T."
)


# -- helpers ----------------------------------------------------------------------------------
def compress(*cols: np.ndarray, weights: np.ndarray | None = None):
    """Unique rows of the columns ``cols``, with the index of each row's unique row and the counts.

    Hash-based (pandas.factorize), so ~50 ms for a million rows of three columns.
    Returns ``(unique_cols, inverse, counts)``; ``counts`` sums ``weights`` when given.
    """
    n = len(cols[0])
    key = np.zeros(n, dtype=np.int64)
    size = 1
    for c in cols:
        codes, uniques = pd.factorize(c, sort=False)
        k = max(len(uniques), 1)
        if size * k >= 2**62:  # renumber the key before it could overflow int64
            key, _ = pd.factorize(key, sort=False)
            size = int(key.max()) + 1 if n else 1
        key = key * k + codes
        size *= k
    inverse, _ = pd.factorize(key, sort=False)
    m = int(inverse.max()) + 1 if n else 0
    first = np.empty(m, dtype=np.int64)
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)
    counts = np.bincount(inverse, weights=weights, minlength=m).astype(float)
    return [np.asarray(c)[first] for c in cols], inverse, counts


def as_time(t: Any, n: int, *, what: str) -> np.ndarray:
    """A non-negative horizon ``t`` as a float array of length ``n`` (a scalar is repeated)."""
    arr = np.asarray(t, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise SchemaError(
            f"{what}: t must be a number or hold one value per row; received {arr.shape[0]} "
            f"value(s) for {n} row(s)."
        )
    bad = int(np.sum(~np.isfinite(arr) | (arr < 0)))
    if bad:
        raise SchemaError(f"{what}: t must be finite and >= 0; {bad} value(s) are not.")
    return arr


def read_columns(
    data: Any,
    columns: Sequence[str],
    *,
    where: str,
    hint: str,
    integer: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Float arrays of ``columns`` (and of ``optional`` ones when present), checked for NaN and < 0.

    Every problem is counted and reported at once, by column, never with a value.
    """
    if not hasattr(data, "columns"):
        raise SchemaError(
            f"{where} must be a pandas DataFrame; received {type(data).__name__}. {hint}"
        )
    require_columns(list(map(str, data.columns)), columns, where=where, hint=hint)
    if len(data) == 0:
        raise SchemaError(f"{where} has no rows. {hint}")
    out: dict[str, np.ndarray] = {}
    problems: list[str] = []
    for col in [*columns, *[c for c in optional if c in data.columns]]:
        try:
            arr = np.asarray(data[col], dtype=float)
        except (TypeError, ValueError):
            problems.append(f"column {col!r} is not numeric")
            continue
        nan = int(np.sum(~np.isfinite(arr)))
        neg = int(np.sum(arr < 0))
        if nan:
            problems.append(f"column {col!r} has {nan} missing or infinite value(s)")
        if neg:
            problems.append(f"column {col!r} has {neg} negative value(s)")
        if col in integer:
            frac = int(np.sum(np.isfinite(arr) & (arr != np.round(arr))))
            if frac:
                problems.append(f"column {col!r} has {frac} non-integer value(s)")
        out[col] = arr
    if problems:
        raise SchemaError(f"{where} breaks the rules: {'; '.join(problems)}. {hint}")
    return out


def _raise_rules(where: str, problems: list[str], hint: str) -> None:
    if problems:
        raise SchemaError(f"{where} breaks the rules: {'; '.join(problems)}. {hint}")


# -- numerical derivatives ----------------------------------------------------------------------
def _num_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(len(x)):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _num_hess(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    k = len(x)
    H = np.empty((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h**2)
    return H


def _hess_from_grad(
    g: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[i] = (g(x + e) - g(x - e)) / (2 * h)
    return (H + H.T) / 2


# -- models -------------------------------------------------------------------------------------
class BaseModel:
    """Fitting, standard errors, summary and persistence for a model with positive parameters.

    Parameters
    ----------
    penalizer
        Adds ``penalizer * sum(theta**2)`` to the mean negative log-likelihood (as lifetimes does);
        0 fits by plain maximum likelihood. A small value (0.001) helps a fit that runs away.
    initial_params
        Starting values by parameter name; the rest start from the model's defaults.
    max_iter
        Iterations allowed to the optimiser.
    """

    _param_names: ClassVar[tuple[str, ...]] = ()
    _stat_keys: ClassVar[tuple[str, ...]] = ("x", "t_x", "T", "z", "t", "kind", "w")
    _fit_hint: ClassVar[str] = ""

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        max_iter: int = 2000,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.max_iter = max_iter

    # ---- what a concrete model states -----------------------------------------------------
    def _stats(self, data: Any, where: str) -> dict[str, np.ndarray]:
        """Compressed sufficient statistics of ``data``; key ``w`` holds the row weights."""
        raise NotImplementedError

    def _loglik_rows(self, theta: np.ndarray, stats: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def _default_init(self, stats: dict[str, np.ndarray]) -> dict[str, float]:
        return dict.fromkeys(self._param_names, 1.0)

    def _loglik(self, theta: np.ndarray, stats: dict[str, np.ndarray]) -> float:
        return float(np.dot(stats["w"], self._loglik_rows(theta, stats)))

    # Optional: (total log-likelihood, its gradient w.r.t. theta on the natural scale).
    _loglik_and_grad: (
        Callable[[np.ndarray, dict[str, np.ndarray]], tuple[float, np.ndarray]] | None
    ) = None

    # ---- sklearn-style plumbing ------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__``."""
        out = {"penalizer": self.penalizer, "max_iter": self.max_iter}
        out["initial_params"] = dict(self.initial_params) if self.initial_params else None
        return out

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            inner = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"<{type(self).__name__} fitted: {inner}>"
        return f"<{type(self).__name__} not fitted>"

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _check_fitted(self) -> np.ndarray:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {self._name} is not fitted yet: call .fit(data) first, or build it from "
                f"known values with {self._name}.from_params({{...}})."
            )
        return np.array([self.params_[k] for k in self._param_names])

    def _check_settings(self) -> None:
        problems = []
        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            problems.append(f"penalizer must be a finite number >= 0; received {self.penalizer!r}")
        if not (isinstance(self.max_iter, int | np.integer) and self.max_iter > 0):
            problems.append(f"max_iter must be a positive integer; received {self.max_iter!r}")
        if self.initial_params is not None:
            unknown = sorted(set(self.initial_params) - set(self._param_names))
            if unknown:
                problems.append(
                    f"initial_params has unknown name(s) {', '.join(unknown)}; "
                    f"{self._name} has {', '.join(self._param_names)}"
                )
            bad = [k for k, v in self.initial_params.items() if not (np.isfinite(v) and v > 0)]
            if bad:
                problems.append(
                    f"initial_params must be finite and > 0: {', '.join(map(str, bad))}"
                )
        if problems:
            raise SettingsError(f"{self._name} settings break the rules: {'; '.join(problems)}.")

    @classmethod
    def from_params(cls, params: Mapping[str, float], /, **settings: Any) -> Self:
        """A model with known parameter values (for instance published ones), ready to predict."""
        model = cls(**settings)
        missing = [k for k in cls._param_names if k not in params]
        unknown = sorted(set(params) - set(cls._param_names))
        bad = [
            k
            for k in cls._param_names
            if k in params and not (np.isfinite(params[k]) and params[k] > 0)
        ]
        if missing or unknown or bad:
            raise SettingsError(
                f"{cls.__name__}.from_params needs exactly {', '.join(cls._param_names)}, each "
                f"finite and > 0; missing: {', '.join(missing) or 'none'}, unknown: "
                f"{', '.join(unknown) or 'none'}, invalid: {', '.join(bad) or 'none'}."
            )
        model.params_ = {k: float(params[k]) for k in cls._param_names}
        return model

    # ---- fitting ---------------------------------------------------------------------------
    def fit(self, data: Any, /) -> Self:
        """Fit the model by maximum likelihood on the unique rows of ``data``.

        Parameters
        ----------
        data
            The model's input table (see the class docstring); an optional ``weights`` column
            counts the customers each row stands for.

        Returns
        -------
        self
        """
        self._check_settings()
        stats = self._stats(data, f"{self._name}.fit data")
        w_total = float(stats["w"].sum())
        init = self._default_init(stats)
        init.update(self.initial_params or {})
        x0 = np.log([init[k] for k in self._param_names])

        def nll(lp: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                v = -self._loglik(np.exp(lp), stats) / w_total
            return v if np.isfinite(v) else 1e100

        pen = self.penalizer

        def objective(lp: np.ndarray) -> float:
            return nll(lp) + pen * float(np.sum(np.exp(2 * lp)))

        fun_grad = None
        if self._loglik_and_grad is not None:

            def fun_grad(lp: np.ndarray) -> tuple[float, np.ndarray]:
                theta = np.exp(lp)
                with np.errstate(all="ignore"):
                    ll, g = self._loglik_and_grad(theta, stats)
                f = -ll / w_total + pen * float(np.sum(theta**2))
                if not np.isfinite(f) or not np.all(np.isfinite(g)):
                    return 1e100, np.zeros_like(lp)
                return f, -g * theta / w_total + pen * 2 * theta**2

        self._init_used = init
        lp, H = self._minimise(objective, fun_grad, x0)
        if not pen and not _is_pos_def(H):
            raise ConvergenceError(
                self._convergence_message(
                    "the log-likelihood has no proper maximum (its curvature is not positive definite "
                    "at the best point found), so a parameter is not identified by these data, e.g. when "
                    "(almost) no customer made a repeat purchase"
                )
            )
        theta = np.exp(lp)
        if pen:  # standard errors from the log-likelihood alone
            H = _num_hess(nll, lp)
        H = H * w_total
        self.params_ = {k: float(v) for k, v in zip(self._param_names, theta, strict=True)}
        with np.errstate(all="ignore"):
            self.log_likelihood_ = float(self._loglik(theta, stats))
        self.n_customers_ = w_total
        self.n_unique_rows_ = len(stats["w"])
        self.data_fingerprint_ = _fingerprint({k: stats[k] for k in self._stat_keys if k in stats})
        self._set_covariance(H, theta)
        self._after_fit(stats)
        return self

    def _after_fit(self, stats: dict[str, np.ndarray]) -> None:
        pass

    def _set_covariance(self, H: np.ndarray, theta: np.ndarray) -> None:
        k = len(theta)
        if _is_pos_def(H):
            cov_log = linalg.inv(H)
        else:
            warnings.warn(
                f"{self._name}: the Hessian at the optimum is not positive definite, so the standard "
                "errors are undefined (NaN); a parameter may be poorly identified by these data.",
                RuntimeWarning,
                stacklevel=3,
            )
            cov_log = np.full((k, k), np.nan)
        J = np.diag(theta)  # delta method: d theta / d log theta = theta
        cov = J @ cov_log @ J
        self.covariance_ = pd.DataFrame(cov, index=self._param_names, columns=self._param_names)
        self._se_log = np.sqrt(np.diag(cov_log))
        self.standard_errors_ = {
            k: float(v) for k, v in zip(self._param_names, theta * self._se_log, strict=True)
        }

    def _minimise(
        self, f: Callable, fun_grad: Callable | None, x0: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Minimise ``f`` from ``x0``; return the optimum and the Hessian there (mean scale)."""
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
        if fun_grad is not None:
            res = optimize.minimize(
                fun_grad,
                x0,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": 1e-9},
            )

            def grad(x):
                return fun_grad(x)[1]

            def hess(x):
                return _hess_from_grad(grad, x)
        else:
            res = optimize.minimize(
                f,
                x0,
                jac="2-point",
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": self.max_iter, "ftol": 1e-15, "gtol": 1e-9},
            )

            def grad(x):
                return _num_grad(f, x)

            def hess(x):
                return _num_hess(f, x)

        x, fx = res.x, float(f(res.x))
        # L-BFGS-B often ends on "abnormal termination in line search" once the gradient is down to
        # rounding noise: judge by the gradient, and fall back to Nelder-Mead only when it is large.
        if not np.isfinite(fx) or fx >= 1e99 or np.max(np.abs(grad(x))) > 1e-5:
            nm = optimize.minimize(
                f,
                x,
                method="Nelder-Mead",
                bounds=bounds,
                options={"maxiter": self.max_iter * 5, "xatol": 1e-10, "fatol": 1e-14},
            )
            if nm.fun < fx:
                x, fx = nm.x, float(nm.fun)
        # Polish: Newton steps with the numerical Hessian, which the standard errors need anyway
        # (computed once: near the optimum it barely changes).
        g, H = grad(x), hess(x)
        x_hess = x
        for _ in range(6):
            if np.max(np.abs(g)) < 1e-9:
                break
            try:
                step = linalg.solve(H, g, assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                break
            t, improved = 1.0, False
            while t > 1e-3 and np.all(np.isfinite(step)):
                xn = np.clip(x - t * step, -_LOG_BOUND, _LOG_BOUND)
                fn = f(xn)
                if fn <= fx:
                    improved = True
                    break
                t /= 2
            if not improved:
                break
            x, fx = xn, fn
            g = grad(x)
            if np.max(np.abs(t * step)) < 1e-10:
                break
        moved = np.max(np.abs(x - x_hess))
        if moved > (0 if fun_grad is not None else 1e-3):
            H = hess(x)
        at_edge = [
            k for k, v in zip(self._param_names, x, strict=True) if abs(v) > _LOG_BOUND - 0.5
        ]
        if not np.isfinite(fx) or fx >= 1e99 or at_edge or np.max(np.abs(g)) > 1e-4:
            reason = (
                "the log-likelihood is not finite at the best point found"
                if not np.isfinite(fx) or fx >= 1e99
                else f"parameter(s) {', '.join(at_edge)} ran off to 0 or infinity"
                if at_edge
                else f"the gradient is still {np.max(np.abs(g)):.2g} (optimiser: {res.message})"
            )
            raise ConvergenceError(self._convergence_message(reason))
        return x, H

    def _convergence_message(self, reason: str) -> str:
        init = getattr(self, "_init_used", dict.fromkeys(self._param_names, 1.0))
        example = ", ".join(f"{k!r}: {init[k]:.3g}" for k in self._param_names)
        return (
            f"{self._name} fit did not converge: {reason}. Try, in this order: measure time in "
            "larger units (time_unit='W' rather than 'D' in rfm_summary), start from other values, "
            f"or add a small penalizer. For example:\n    crmine.clv.{self._name}(penalizer=0.001, "
            f"initial_params={{{example}}}).fit(data)"
            + (f"\n{self._fit_hint}" if self._fit_hint else "")
        )

    # ---- reporting -------------------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95% intervals (log-normal, so they stay positive)."""
        theta = self._check_fitted()
        se_log = getattr(self, "_se_log", np.full(len(theta), np.nan))
        return pd.DataFrame(
            {
                "coef": theta,
                "se(coef)": theta * se_log,
                "lower 95% bound": theta * np.exp(-1.959964 * se_log),
                "upper 95% bound": theta * np.exp(1.959964 * se_log),
            },
            index=pd.Index(self._param_names, name="param"),
        )

    # ---- persistence -----------------------------------------------------------------------
    def save(self, path: str | Path, /) -> None:
        """Write the fitted model to ``path`` as JSON, with the crmine version that made it."""
        self._check_fitted()
        doc = {
            "format": _FORMAT,
            "model": self._name,
            "crmine_version": __version__,
            "settings": self.get_params(),
            "params": self.params_,
            "log_likelihood": getattr(self, "log_likelihood_", None),
            "standard_errors": getattr(self, "standard_errors_", None),
            "covariance": self.covariance_.to_numpy().tolist()
            if hasattr(self, "covariance_")
            else None,
            "n_customers": getattr(self, "n_customers_", None),
            "data_fingerprint": getattr(self, "data_fingerprint_", None),
            "extra": self._extra_state(),
        }
        _atomic.write_text(path, json.dumps(doc, indent=2, allow_nan=True))  # whole or not at all

    def _extra_state(self) -> dict[str, Any]:
        return {}

    @classmethod
    def load(cls, path: str | Path, /, *, check_version: bool = True) -> Self:
        """Read a model written by :meth:`save`.

        Raises ModelMismatchError when the file is empty or truncated, holds another model or
        another format, or (with ``check_version``) was written by another crmine version.
        """
        doc = read_json(path, rerun="Fit the model and save it again.")
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ModelMismatchError(
                f"{path} is not a crmine CLV model file (expected format {_FORMAT!r})."
            )
        if doc.get("model") != cls.__name__:
            raise ModelMismatchError(
                f"{path} holds a {doc.get('model')} model; load it with "
                f"crmine.clv.{doc.get('model')}.load(path), not {cls.__name__}.load."
            )
        if check_version and doc.get("crmine_version") != __version__:
            raise ModelMismatchError(
                f"{path} was saved by crmine {doc.get('crmine_version')}, this is {__version__}. "
                "Refit the model, or pass check_version=False to load it anyway."
            )
        settings = doc.get("settings") or {}
        model = cls.from_params(doc["params"], **settings)
        if doc.get("log_likelihood") is not None:
            model.log_likelihood_ = float(doc["log_likelihood"])
        if doc.get("standard_errors") is not None:
            model.standard_errors_ = {k: float(v) for k, v in doc["standard_errors"].items()}
            theta = np.array([model.params_[k] for k in cls._param_names])
            model._se_log = np.array([model.standard_errors_[k] for k in cls._param_names]) / theta
        if doc.get("covariance") is not None:
            model.covariance_ = pd.DataFrame(
                np.array(doc["covariance"], dtype=float),
                index=cls._param_names,
                columns=cls._param_names,
            )
        for attr in ("n_customers", "data_fingerprint"):
            if doc.get(attr) is not None:
                setattr(model, attr + "_", doc[attr])
        model._load_extra_state(doc.get("extra") or {})
        return model

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        pass


def read_json(path: str | Path, *, rerun: str) -> Any:
    """The JSON document in ``path``; an empty or truncated file raises ModelMismatchError saying
    so and what to ``rerun``."""
    text = Path(path).read_bytes()
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        what = "empty (0 bytes)" if not text else f"not readable JSON ({type(e).__name__}: truncated?)"
        raise ModelMismatchError(f"{path} is {what}. {rerun}") from e


def _is_pos_def(H: np.ndarray) -> bool:
    try:
        linalg.cholesky(H)
    except (linalg.LinAlgError, ValueError):
        return False
    return bool(np.all(np.isfinite(H)))


def _fingerprint(stats: dict[str, np.ndarray]) -> str:
    """A short hash of the sufficient statistics, whatever the order of the rows."""
    keys = sorted(stats)
    cols = [np.ascontiguousarray(stats[k], dtype=float) for k in keys]
    order = np.lexsort(cols[::-1])
    h = hashlib.sha256()
    for k, c in zip(keys, cols, strict=True):
        h.update(k.encode())
        h.update(np.ascontiguousarray(c[order]).tobytes())
    return h.hexdigest()[:16]


class TransactionModel(BaseModel):
    """A model of repeat purchases from (frequency, recency, T): BG/NBD, Pareto/NBD, MBG/NBD, BG/BB.

    A concrete model states its log-likelihood, ``_p_alive`` (probability of being active given
    the history), ``_expected_if_alive`` (expected purchases in (T, T+t] given that and the
    history; it depends on x and T only) and ``_expected_new`` (E[X(t)] for a new customer).
    """

    _columns: ClassVar[tuple[str, str, str]] = ("frequency", "recency", "T")
    _hint: ClassVar[str] = _RFM_HINT

    # ---- what a concrete model states -----------------------------------------------------
    def _p_alive(self, theta, x, t_x, T):
        raise NotImplementedError

    def _expected_if_alive(self, theta, x, T, t):
        raise NotImplementedError

    def _expected_new(self, theta, t):
        raise NotImplementedError

    def _expected(self, theta, x, t_x, T, t):  # E[X(T, T+t) | x, t_x, T]
        return self._expected_if_alive(theta, x, T, t) * self._p_alive(theta, x, t_x, T)

    def _rules(self, x, t_x, T) -> list[str]:
        problems = []
        over = int(np.sum(t_x > T * (1 + 1e-12) + 1e-12))
        if over:
            problems.append(
                f"{over} row(s) have {self._columns[1]} greater than {self._columns[2]}"
            )
        zero = int(np.sum((x == 0) & (t_x > 0)))
        if zero:
            problems.append(
                f"{zero} row(s) have frequency 0 but {self._columns[1]} > 0 (recency must be 0 "
                "for a customer with no repeat purchase)"
            )
        return problems

    # ---- data --------------------------------------------------------------------------------
    def _read(self, data: Any, where: str, *, weights: bool = False):
        cols = read_columns(
            data,
            self._columns,
            where=where,
            hint=self._hint,
            integer=(self._columns[0],),
            optional=("weights",) if weights else (),
        )
        x, t_x, T = (cols[c] for c in self._columns)
        _raise_rules(where, self._rules(x, t_x, T), self._hint)
        return x, t_x, T, cols.get("weights")

    def _stats(self, data: Any, where: str) -> dict[str, np.ndarray]:
        """Unique (x, t_x, T) rows with counts ``w``, and the distinct values of each column
        (``ux``/``ix`` etc.) so that a log-likelihood evaluates per-x, per-T and per-t_x terms once."""
        x, t_x, T, w = self._read(data, where, weights=True)
        (x, t_x, T), _, counts = compress(x, t_x, T, weights=w)
        keep = counts > 0
        if not keep.any():
            raise SchemaError(f"{where} has no rows with a positive weight. {self._hint}")
        st = {"x": x[keep], "t_x": t_x[keep], "T": T[keep], "w": counts[keep]}
        for key in ("x", "t_x", "T"):
            st["u" + key], st["i" + key] = np.unique(st[key], return_inverse=True)
        st["wx"] = np.bincount(st["ix"], weights=st["w"], minlength=len(st["ux"]))
        return st

    def _after_fit(self, stats: dict[str, np.ndarray]) -> None:
        self.max_frequency_ = int(stats["x"].max())
        self.max_T_ = float(stats["T"].max())

    def _extra_state(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("max_frequency_", "max_T_") if hasattr(self, k)}

    def _load_extra_state(self, extra: dict[str, Any]) -> None:
        for k, v in extra.items():
            setattr(self, k, v)

    def _on_unique(self, fn: Callable[..., np.ndarray], *cols: np.ndarray) -> np.ndarray:
        uniq, inverse, _ = compress(*cols)
        with np.errstate(all="ignore"):
            return np.asarray(fn(*uniq), dtype=float)[inverse]

    # ---- predictions ---------------------------------------------------------------------------
    def expected_purchases(self, t: float | np.ndarray, data: Any, /) -> pd.Series:
        """Expected repeat purchases of each customer in the next ``t`` time units.

        Parameters
        ----------
        t
            The horizon after the end of observation (T), one number or one per row.
        data
            Columns frequency, recency and T (BG/BB: frequency, recency, periods).

        Returns
        -------
        pandas.Series
            Named ``expected_purchases``, indexed like ``data``.
        """
        theta = self._check_fitted()
        where = f"{self._name}.expected_purchases data"
        x, t_x, T, _ = self._read(data, where)
        tt = as_time(t, len(x), what=where)
        alive = self._on_unique(lambda *a: self._p_alive(theta, *a), x, t_x, T)
        given = self._on_unique(lambda *a: self._expected_if_alive(theta, *a), x, T, tt)
        return pd.Series(alive * given, index=data.index, name="expected_purchases")

    def probability_alive(self, data: Any, /) -> pd.Series:
        """Probability that each customer is still active at the end of observation.

        Returns
        -------
        pandas.Series
            Named ``probability_alive``, indexed like ``data``.
        """
        theta = self._check_fitted()
        x, t_x, T, _ = self._read(data, f"{self._name}.probability_alive data")
        val = self._on_unique(lambda *a: self._p_alive(theta, *a), x, t_x, T)
        return pd.Series(val, index=data.index, name="probability_alive")

    def expected_purchases_new_customer(self, t: float | np.ndarray, /) -> float | np.ndarray:
        """Unconditional expected repeat purchases E[X(t)] of a customer since their first purchase."""
        theta = self._check_fitted()
        arr = np.asarray(t, dtype=float)
        tt = as_time(arr.ravel(), arr.size, what=f"{self._name}.expected_purchases_new_customer")
        with np.errstate(all="ignore"):
            out = self._expected_new(theta, tt).reshape(arr.shape)
        return float(out) if out.ndim == 0 else out

    def _expected_grid(self, times: np.ndarray, data: Any, where: str):
        """E[X(T, T+s)] for every s in ``times``, factored as P(alive) per customer (n,) times a
        (n_pairs, len(times)) grid over the distinct (x, T), with each customer's pair index."""
        theta = self._check_fitted()
        x, t_x, T, _ = self._read(data, where)
        alive = self._on_unique(lambda *a: self._p_alive(theta, *a), x, t_x, T)
        (ux, uT), pair, _ = compress(x, T)
        with np.errstate(all="ignore"):
            grid = self._expected_if_alive(theta, ux[:, None], uT[:, None], times[None, :])
        return alive, np.asarray(grid, dtype=float), pair

    # ---- matrices and plots --------------------------------------------------------------------
    def _grid(self, max_frequency, max_recency, T):
        self._check_fitted()
        T = float(T if T is not None else getattr(self, "max_T_", 0.0))
        if T <= 0:
            raise SettingsError(
                f"{self._name}: give T > 0 (the length of observation) for the matrix."
            )
        mf = int(
            max_frequency if max_frequency is not None else getattr(self, "max_frequency_", 10)
        )
        mr = int(max_recency if max_recency is not None else np.floor(T))
        f = np.arange(mf + 1, dtype=float)
        r = np.arange(mr + 1, dtype=float)
        return f[:, None], r[None, :], T, f, r

    def _possible(self, X: np.ndarray, R: np.ndarray) -> np.ndarray:
        """Cells of a matrix that a history can have (no recency without a repeat purchase)."""
        return ~((X == 0) & (R > 0))

    def frequency_recency_matrix(
        self,
        t: float = 1.0,
        /,
        *,
        T: float | None = None,
        max_frequency: int | None = None,
        max_recency: int | None = None,
    ) -> pd.DataFrame:
        """Expected purchases in the next ``t`` units by frequency (rows) and recency (columns).

        Customers observed for ``T`` (by default the longest T seen in fit); cells no history can
        have (frequency 0 with recency > 0; for BG/BB also frequency > recency) are NaN.
        """
        X, R, T, f, r = self._grid(max_frequency, max_recency, T)
        with np.errstate(all="ignore"):
            m = self._expected(self._check_fitted(), X, R + 0 * X, np.full_like(X * R, T), t)
        m = np.where(self._possible(X, R), m, np.nan)
        return pd.DataFrame(
            m, index=pd.Index(f.astype(int), name="frequency"), columns=pd.Index(r, name="recency")
        )

    def probability_alive_matrix(
        self,
        *,
        T: float | None = None,
        max_frequency: int | None = None,
        max_recency: int | None = None,
    ) -> pd.DataFrame:
        """Probability alive by frequency (rows) and recency (columns), for customers observed T."""
        X, R, T, f, r = self._grid(max_frequency, max_recency, T)
        with np.errstate(all="ignore"):
            m = self._p_alive(self._check_fitted(), X + 0 * R, R + 0 * X, np.full_like(X * R, T))
        m = np.where(self._possible(X, R), m, np.nan)
        return pd.DataFrame(
            m, index=pd.Index(f.astype(int), name="frequency"), columns=pd.Index(r, name="recency")
        )

    def plot_frequency_recency_matrix(self, t: float = 1.0, /, **kw: Any):
        """Heatmap of :meth:`frequency_recency_matrix`; returns a plotly Figure."""
        return _heatmap(
            self.frequency_recency_matrix(t, **kw),
            f"{self._name}: expected purchases in the next {t:g} time units",
        )

    def plot_probability_alive_matrix(self, **kw: Any):
        """Heatmap of :meth:`probability_alive_matrix`; returns a plotly Figure."""
        return _heatmap(self.probability_alive_matrix(**kw), f"{self._name}: probability alive")


def _heatmap(m: pd.DataFrame, title: str):
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Heatmap(
            z=m.to_numpy(), x=m.columns.to_numpy(), y=m.index.to_numpy(), colorscale="Viridis"
        )
    )
    fig.update_layout(title=title, xaxis_title="recency", yaxis_title="frequency")
    return fig
