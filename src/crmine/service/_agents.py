"""The effect of each agent on an outcome of the contacts they handle, adjusted for their mix.

Method (an empirical-Bayes random-intercept model, fitted in closed form):

1. Within-agent regression. ``y = a[agent] + X b + e`` with one intercept per agent and the
   covariates ``X`` (dummies of the categorical ones against their most frequent level; numbers as
   they are). ``b`` is estimated on the agent-demeaned data, so it is learned only from
   contrasts *within* an agent's work: who an agent serves cannot bias it. A level that only one
   team's agents ever handle (contact types routed to one team) has no within-agent contrast; its
   coefficient is left at zero (least squares' minimum-norm solution), i.e. it is taken as equal to
   the reference level, and any difference goes to those agents.
2. Each agent's raw level is the mean of ``y - X b`` over their contacts, with sampling variance
   ``sigma^2 / n`` (``sigma^2`` from the within-agent residuals).
3. The spread of true agent levels, ``tau^2``, is estimated by the method of moments
   (DerSimonian & Laird 1986, eq. 8), and each agent's effect is its posterior mean:
   ``effect = B (raw - mu)`` with ``B = tau^2 / (tau^2 + sigma^2/n)`` and ``mu`` the precision-
   weighted mean; the posterior variance ``B sigma^2/n + (1 - B)^2 var(mu)`` gives the interval
   (Morris 1983, eq. 3.3). An agent with few contacts is pulled towards 0 and gets a wide interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from crmine.errors import NotFittedError, SchemaError, SettingsError

__all__ = ["AgentEffects"]


class AgentEffects:
    """Shrunken, mix-adjusted effect of each agent on an outcome (higher is better).

    Parameters
    ----------
    outcome
        The column to explain (``satisfaction``; ``resolved`` gives a linear probability model).
    categorical
        Categorical covariates (contact type, channel, ...); missing values are a level of their own.
    numeric
        Numeric covariates (the customer's prior contacts and prior spend, ...), entered as
        ``log1p`` of their value when none is negative; missing values are set to the mean, with an
        indicator.
    confidence
        Level of the intervals.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"agent_id": list("aaabbbccc"), "satisfaction": [5, 4, 5, 3, 3, 2, 4, 4, 3]})
    >>> fit = AgentEffects(categorical=(), numeric=()).fit(f)
    >>> fit.effects_.agent_id.tolist()
    ['a', 'c', 'b']
    """

    def __init__(self, *, outcome: str = "satisfaction", categorical: Sequence[str] = ("type", "channel"),
                 numeric: Sequence[str] = ("prior_contacts", "prior_spend"), confidence: float = 0.95) -> None:
        self.outcome = outcome
        self.categorical = categorical
        self.numeric = numeric
        self.confidence = confidence

    def fit(self, frame: pd.DataFrame, /) -> AgentEffects:
        """Fit on ``frame``: one row per contact with ``agent_id``, the outcome and the covariates.

        Rows without an agent or an outcome are left out; an optional ``team`` column is carried.
        """
        if not 0 < self.confidence < 1:
            raise SettingsError(f"confidence must lie between 0 and 1; received {self.confidence!r}.")
        needed = ["agent_id", self.outcome, *self.categorical, *self.numeric]
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise SchemaError(f"The contacts lack column(s) {', '.join(missing)}. "
                              f"Existing columns: {', '.join(map(str, frame.columns))}.")
        d = frame[frame["agent_id"].notna() & frame[self.outcome].notna()]
        d = d.sort_values([c for c in ("interaction_id", "agent_id") if c in d.columns], kind="stable")
        agents = d["agent_id"].astype(str).to_numpy()
        if len(np.unique(agents)) < 3:
            raise SchemaError(f"Agent effects need contacts of at least 3 agents with a known {self.outcome}; "
                              f"found {len(np.unique(agents))} agent(s) in {len(d):,} contact(s).")
        y = d[self.outcome].astype("float64").to_numpy()
        X, names = self._design(d)
        codes, uniq = pd.factorize(agents, sort=True)
        n = np.bincount(codes).astype(float)

        def demean(a):
            means = np.zeros((len(uniq),) + a.shape[1:])
            np.add.at(means, codes, a)
            return a - (means.T / n).T[codes]

        yw, Xw = demean(y), demean(X)
        beta, rank = np.zeros(X.shape[1]), 0
        if X.shape[1]:
            beta = np.linalg.lstsq(Xw, yw, rcond=None)[0]
            beta[np.abs(Xw).max(axis=0) < 1e-9] = 0.0  # no contrast within any agent: not identified
            rank = int(np.linalg.matrix_rank(Xw))
        resid = y - X @ beta
        raw = np.bincount(codes, weights=resid) / n
        df = max(len(y) - len(uniq) - rank, 1)
        sigma2 = float(np.sum((resid - raw[codes]) ** 2) / df)
        v = sigma2 / n
        w = 1 / v
        mean_w = np.sum(w * raw) / w.sum()
        q = float(np.sum(w * (raw - mean_w) ** 2))
        tau2 = max(0.0, (q - (len(uniq) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
        ws = 1 / (v + tau2)
        mu = float(np.sum(ws * raw) / ws.sum())
        var_mu = 1 / ws.sum()
        shrink = tau2 / (tau2 + v)
        effect = shrink * (raw - mu)
        sd = np.sqrt(shrink * v + (1 - shrink) ** 2 * var_mu)
        z = stats.norm.ppf(0.5 + self.confidence / 2)
        team = (d.groupby(agents)["team"].first().reindex(uniq).astype(str).to_numpy()
                if "team" in d.columns else np.full(len(uniq), None))
        out = pd.DataFrame({"agent_id": uniq, "team": team, "contacts": n.astype("int64"), "effect": effect,
                            "ci_low": effect - z * sd, "ci_high": effect + z * sd, "sd": sd,
                            "raw_effect": raw - mu, "shrinkage": 1 - shrink, "mean_outcome": np.bincount(
                                codes, weights=y) / n})
        self.effects_ = out.sort_values(["effect", "agent_id"], ascending=[False, True], kind="stable",
                                        ignore_index=True)
        self.coef_ = pd.Series(beta, index=names, dtype="float64")
        self.tau2_, self.sigma2_, self.mu_, self.contacts_ = tau2, sigma2, mu, len(y)
        return self

    def _design(self, d: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        cols, names = [], []
        for c in self.categorical:
            s = d[c].astype("string").fillna("(missing)")
            counts = s.value_counts(sort=False)
            ref = sorted(counts[counts == counts.max()].index)[0]  # the most frequent level, ties by name
            for level in sorted(set(s) - {ref}):
                cols.append((s == level).to_numpy(float))
                names.append(f"{c}={level}")
        for c in self.numeric:
            x = pd.to_numeric(d[c], errors="coerce").astype("float64").to_numpy()
            gone = np.isnan(x)
            if gone.all():
                continue
            if np.nanmin(x) >= 0:
                x = np.log1p(x)  # counts and money: diminishing returns
            cols.append(np.where(gone, np.nanmean(x), x))
            names.append(c)
            if gone.any():
                cols.append(gone.astype(float))
                names.append(f"{c} missing")
        X = np.column_stack(cols) if cols else np.zeros((len(d), 0))
        return X, names

    def teams(self) -> pd.DataFrame:
        """Each team's effect: the mean of its agents' effects, with an interval."""
        e = self._fitted()
        z = stats.norm.ppf(0.5 + self.confidence / 2)
        g = e.groupby("team", dropna=False)
        out = pd.DataFrame({"agents": g.size(), "contacts": g["contacts"].sum(), "effect": g["effect"].mean(),
                            "sd": g["sd"].apply(lambda s: float(np.sqrt(np.sum(s**2))) / len(s))})
        out["ci_low"], out["ci_high"] = out.effect - z * out.sd, out.effect + z * out.sd
        return out.reset_index().sort_values(["effect", "team"], ascending=[False, True], ignore_index=True)

    def _fitted(self) -> pd.DataFrame:
        if not hasattr(self, "effects_"):
            raise NotFittedError("This AgentEffects is not fitted yet. Call fit(contacts) first.")
        return self.effects_
