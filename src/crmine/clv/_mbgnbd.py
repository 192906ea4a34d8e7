"""MBG/NBD: Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models for
customer base analysis", International Journal of Research in Marketing 24(3) (BDF07 below).

As BG/NBD, except that a customer may also drop out right after the first purchase (time 0), so a
customer with no repeat purchase is not certainly alive.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from crmine.clv._base import TransactionModel

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(TransactionModel):
    """The MBG/NBD model of repeat purchasing (parameters r, alpha, a, b).

    Takes the same table as :class:`BetaGeo`: ``frequency``, ``recency``, ``T`` and optional
    ``weights``.
    """

    _param_names = ("r", "alpha", "a", "b")

    def _default_init(self, stats):
        mean_T = float(np.dot(stats["w"], stats["T"]) / stats["w"].sum())
        return {"r": 1.0, "alpha": max(mean_T, 1e-3), "a": 1.0, "b": 1.0}

    def _log_dead_ratio(self, theta, x, t_x, T):
        # ln[ a/(b+x) * ((alpha+T)/(alpha+t_x))^(r+x) ]: dead after the last purchase vs alive at T
        r, alpha, a, b = theta
        return np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))

    def _loglik_rows(self, theta, stats):
        # BDF07 Appendix A (likelihood): the BG/NBD likelihood with the dropout chance at every purchase,
        # the first included: L = B(a, b+x+1)/B(a, b) * NBD term * (1 + a/(b+x) ((a+T)/(a+t_x))^(r+x))
        r, alpha, a, b = theta
        x, t_x, T = stats["x"], stats["t_x"], stats["T"]
        A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)
        A2 = betaln(a, b + x + 1) - betaln(a, b)
        return A1 + A2 + np.logaddexp(0.0, self._log_dead_ratio(theta, x, t_x, T))

    def _loglik_and_grad(self, theta, st):
        # _loglik_rows with per-distinct-value terms, and its gradient; s = P(dead | history).
        r, alpha, a, b = theta
        x, w, ux, ix, wx = st["x"], st["w"], st["ux"], st["ix"], st["wx"]
        W = w.sum()
        lT = np.log(alpha + st["uT"])[st["iT"]]
        ltx = np.log(alpha + st["ut_x"])[st["it_x"]]
        D = (np.log(a) - np.log(b + ux))[ix] + (r + x) * (lT - ltx)
        ll = (
            np.dot(wx, gammaln(r + ux) + betaln(a, b + ux + 1))
            + W * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
            - np.dot(w * (r + x), lT)
            + np.dot(w, np.logaddexp(0.0, D))
        )
        ws = w * expit(D)
        iT = (1.0 / (alpha + st["uT"]))[st["iT"]]
        itx = (1.0 / (alpha + st["ut_x"]))[st["it_x"]]
        dr = (
            np.dot(wx, digamma(r + ux))
            + W * (np.log(alpha) - digamma(r))
            - np.dot(w, lT)
            + np.dot(ws, lT - ltx)
        )
        dalpha = W * r / alpha - np.dot(w * (r + x), iT) + np.dot(ws * (r + x), iT - itx)
        dab = digamma(a + b + ux + 1)
        da = np.dot(wx, digamma(a + b) - dab) + ws.sum() / a
        db = np.dot(wx, digamma(b + ux + 1) - dab - digamma(b) + digamma(a + b)) - np.dot(
            ws, (1.0 / (b + ux))[ix]
        )
        return float(ll), np.array([dr, dalpha, da, db])

    def _p_alive(self, theta, x, t_x, T):
        # BDF07 Appendix A, eq. (5)
        return expit(-self._log_dead_ratio(theta, x, t_x, T))

    def _expected_if_alive(self, theta, x, T, t):
        # BDF07 Appendix A (conditional expectation) without its P(alive) factor:
        #   (a+b+x)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; z)],
        # with Euler's transformation as in BetaGeo: the bracket's 2F1 term equals
        #   (1-z)^(a-1) 2F1(a+b-r, a-1; a+b+x; z), z = t/(alpha+T+t).
        r, alpha, a, b = theta
        z = t / (alpha + T + t)
        f = hyp2f1(a + b - r, a - 1, a + b + x, z)
        return (a + b + x) / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * f)

    def _expected_new(self, theta, t):
        # E[X(t)], derived as FHL (2005) eq. (9) with the dropout at time 0 (checked by simulation):
        # E[X(t)] = b/(a-1) [1 - (alpha/(alpha+t))^r 2F1(r, b+1; a+b; t/(alpha+t))]
        # (a new customer survives the first purchase with probability b/(a+b)).
        r, alpha, a, b = theta
        z = t / (alpha + t)
        return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b + 1, a + b, z))
