"""BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).

While active, a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase
they become inactive with probability p ~ Beta(a, b).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1

from crmine.clv._base import TransactionModel

__all__ = ["BetaGeo"]


class BetaGeo(TransactionModel):
    """The BG/NBD model of repeat purchasing (parameters r, alpha, a, b).

    Fit on one row per customer with ``frequency`` (repeat purchases), ``recency`` (time of the
    last purchase since the first) and ``T`` (time since the first purchase), as made by
    :func:`crmine.clv.rfm_summary`; an optional ``weights`` column counts customers per row.

    Examples
    --------
    >>> from crmine.clv import BetaGeo, rfm_summary
    >>> from crmine.datasets import load_cdnow_sample
    >>> rfm = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30")
    >>> m = BetaGeo().fit(rfm)
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(m.log_likelihood_, 1)
    -9582.4
    """

    _param_names = ("r", "alpha", "a", "b")

    def _default_init(self, stats):
        mean_T = float(np.dot(stats["w"], stats["T"]) / stats["w"].sum())
        return {"r": 1.0, "alpha": max(mean_T, 1e-3), "a": 1.0, "b": 1.0}

    def _loglik_rows(self, theta, stats):
        r, alpha, a, b = theta
        x, t_x, T = stats["x"], stats["t_x"], stats["T"]
        # FHL (2005) eq. (6), in logs: ln L = A1 + A2 + ln(exp(A3) + delta(x>0) exp(A4)).
        A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        A2 = betaln(a, b + x) - betaln(a, b)
        A3 = -(r + x) * np.log(alpha + T)
        pos = x > 0
        A4 = np.full_like(A3, -np.inf)
        xp = x[pos]
        A4[pos] = np.log(a) - np.log(b + xp - 1) - (r + xp) * np.log(alpha + t_x[pos])
        return A1 + A2 + np.logaddexp(A3, A4)

    def _log_dead_ratio(self, theta, x, t_x, T):
        # ln[ a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) ], -inf when x = 0
        r, alpha, a, b = theta
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, v, -np.inf)

    def _p_alive(self, theta, x, t_x, T):
        # Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model" (Hardie note 021)
        return expit(-self._log_dead_ratio(theta, x, t_x, T))

    def _expected(self, theta, x, t_x, T, t):
        # FHL (2005) eq. (10). The Euler transformation
        #   ((a+T)/(a+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)
        # keeps the hypergeometric term bounded when x is in the thousands.
        r, alpha, a, b = theta
        z = t / (alpha + T + t)
        f = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        num = (a + b + x - 1) / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * f)
        return num * self._p_alive(theta, x, t_x, T)

    def _expected_new(self, theta, t):
        # FHL (2005) eq. (9)
        r, alpha, a, b = theta
        z = t / (alpha + t)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))

    def probability_of_n_purchases(self, t: float, n: int | np.ndarray, /) -> np.ndarray:
        """P(X(t) = n) for a new customer, FHL (2005) eq. (8)."""
        r, alpha, a, b = self._check_fitted()
        n = np.asarray(n, dtype=float)
        with np.errstate(all="ignore"):
            lg = gammaln(r + n) - gammaln(r) - gammaln(n + 1) + r * np.log(alpha / (alpha + t)) + n * np.log(t / (alpha + t))
            first = np.exp(betaln(a, b + n) - betaln(a, b) + lg)
            # the second term sums over j = 0 .. n-1
            out = np.empty_like(n)
            for i, ni in np.ndenumerate(n):
                if ni == 0:
                    out[i] = 0.0
                    continue
                j = np.arange(ni)
                terms = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * np.log(alpha / (alpha + t)) + j * np.log(t / (alpha + t)))
                out[i] = np.exp(betaln(a + 1, b + ni - 1) - betaln(a, b)) * (1 - terms.sum())
        return first + out
