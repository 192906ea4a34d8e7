"""Pareto/NBD: Schmittlein, Morrison & Colombo (1987), as derived in Fader & Hardie (2005),
"A Note on Deriving the Pareto/NBD Model and Related Expressions" (FH05 below).

While active, a customer buys at Poisson rate lambda ~ Gamma(r, alpha); their lifetime is
exponential with rate mu ~ Gamma(s, beta).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, gammaln, hyp2f1

from crmine.clv._base import TransactionModel, compress

__all__ = ["ParetoNBD"]


def _log_tail(r, alpha, s, beta, x, t):
    """ln G(t), G(t) = (r+s+x) * integral_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du.

    FH05 eqs. (19)-(20) write G with 2F1(r+s+x, s+1; r+s+x+1; .) (alpha >= beta) or
    2F1(r+s+x, r+x; r+s+x+1; .) (alpha < beta), which overflow for x in the thousands. Euler's
    transformation 2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z) with c - a = 1 turns them into
    2F1(1, .; r+s+x+1; z), a series of positive terms bounded by 1/(1-z); the powers go to logs.
    """
    c = r + s + x + 1
    if alpha >= beta:
        z = (alpha - beta) / (alpha + t)
        return np.log(hyp2f1(1.0, r + x, c, z)) - (r + x) * np.log(alpha + t) - s * np.log(beta + t)
    z = (beta - alpha) / (beta + t)
    return (
        np.log(hyp2f1(1.0, s + 1, c, z))
        - (r + x - 1) * np.log(alpha + t)
        - (s + 1) * np.log(beta + t)
    )


class ParetoNBD(TransactionModel):
    """The Pareto/NBD model of repeat purchasing (parameters r, alpha, s, beta).

    Takes the same table as :class:`BetaGeo`: ``frequency``, ``recency``, ``T`` and optional
    ``weights``.

    Examples
    --------
    >>> from crmine.clv import ParetoNBD, rfm_summary
    >>> from crmine.datasets import load_cdnow_sample
    >>> rfm = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
    >>> m = ParetoNBD().fit(rfm)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.669}
    """

    _param_names = ("r", "alpha", "s", "beta")

    def _default_init(self, stats):
        mean_T = float(np.dot(stats["w"], stats["T"]) / stats["w"].sum())
        return {"r": 1.0, "alpha": max(mean_T, 1e-3), "s": 1.0, "beta": max(mean_T, 1e-3)}

    def _stats(self, data, where):
        st = super()._stats(data, where)
        # G(t) is evaluated once per distinct (x, t_x) and (x, T) pair (a few thousand for 1M customers)
        for key in ("t_x", "T"):
            (px, pt), st["ip_" + key], _ = compress(st["x"], st[key])
            st["px_" + key], st["pt_" + key] = px, pt
        return st

    def _log_alive_and_dead(self, theta, x, t_x, T):
        """ln of the 'alive at T' term and of the 'died in (t_x, T]' term of FH05 eq. (18)."""
        r, alpha, s, beta = theta
        log_alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        g_tx = _log_tail(r, alpha, s, beta, x, t_x)
        g_T = _log_tail(r, alpha, s, beta, x, T)
        d = np.minimum(g_T - g_tx, 0.0)  # G is decreasing: ln A0 = ln G(t_x) + ln(1 - G(T)/G(t_x))
        with np.errstate(divide="ignore"):
            log_a0 = g_tx + np.log(-np.expm1(d))
        log_dead = np.log(s) - np.log(r + s + x) + log_a0
        return log_alive, log_dead

    def _loglik_rows(self, theta, stats):
        # FH05 eq. (18): ln L = ln G(r+x) - ln G(r) + r ln alpha + s ln beta + ln(alive + dead),
        # with the terms that depend on x, T or (x, t) alone evaluated once per distinct value.
        r, alpha, s, beta = theta
        x, ux, ix, uT, iT = stats["x"], stats["ux"], stats["ix"], stats["uT"], stats["iT"]
        g_tx, g_T = (
            _log_tail(r, alpha, s, beta, stats["px_" + k], stats["pt_" + k])[stats["ip_" + k]]
            for k in ("t_x", "T")
        )
        log_alive = -(r + x) * np.log(alpha + uT)[iT] - s * np.log(beta + uT)[iT]
        with np.errstate(divide="ignore"):
            log_a0 = g_tx + np.log(-np.expm1(np.minimum(g_T - g_tx, 0.0)))
        log_dead = (np.log(s) - np.log(r + s + ux))[ix] + log_a0
        const = (gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + s * np.log(beta))[ix]
        return const + np.logaddexp(log_alive, log_dead)

    def _p_alive(self, theta, x, t_x, T):
        # FH05 section 5, eqs. (36)-(37): P(alive) = 1 / (1 + (s/(r+s+x)) (alpha+T)^(r+x) (beta+T)^s A0)
        x, t_x, T = np.broadcast_arrays(*map(np.asarray, (x, t_x, T)))
        log_alive, log_dead = self._log_alive_and_dead(theta, x, t_x, T)
        return expit(log_alive - log_dead)

    def _expected_if_alive(self, theta, x, T, t):
        # FH05 eq. (41) without its P(alive) factor:
        #   (r+x)(beta+T) / ((alpha+T)(s-1)) * [1 - ((beta+T)/(beta+T+t))^(s-1)]
        r, alpha, s, beta = theta
        return (r + x) * (beta + T) / (alpha + T) * _lifetime_factor(s, np.log1p(t / (beta + T)))

    def _expected_new(self, theta, t):
        # FH05 section 4 (the mean): E[X(t)] = r beta / (alpha (s-1)) * [1 - (beta/(beta+t))^(s-1)]
        r, alpha, s, beta = theta
        return r * beta / alpha * _lifetime_factor(s, np.log1p(t / beta))


def _lifetime_factor(s, log_ratio):
    """[1 - exp(-(s-1) L)] / (s-1), with its limit L at s = 1."""
    if abs(s - 1) < 1e-10:
        return log_ratio
    return -np.expm1(-(s - 1) * log_ratio) / (s - 1)
