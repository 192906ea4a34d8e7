"""BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing Science 24(2).

While active, a customer buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase
they become inactive with probability p ~ Beta(a, b).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

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
        A4 = np.where(
            x > 0,
            np.log(a) - np.log(np.where(x > 0, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        return A1 + A2 + np.logaddexp(A3, A4)

    def _loglik_and_grad(self, theta, st):
        # FHL (2005) eq. (6) as in _loglik_rows, with the terms that depend on x, T or t_x alone
        # evaluated once per distinct value, and its gradient (digamma for the gamma/beta terms;
        # the logaddexp splits into the weights q3 = exp(A3 - lse), q4 = exp(A4 - lse)).
        r, alpha, a, b = theta
        x, w, ux, ix, wx = st["x"], st["w"], st["ux"], st["ix"], st["wx"]
        W = w.sum()
        pos_u = ux > 0
        bx1 = np.where(pos_u, b + ux - 1, 1.0)
        lT = np.log(alpha + st["uT"])[st["iT"]]
        ltx = np.log(alpha + st["ut_x"])[st["it_x"]]
        A3 = -(r + x) * lT
        A4 = np.where(pos_u, np.log(a) - np.log(bx1), -np.inf)[ix] - (r + x) * ltx
        lse = np.logaddexp(A3, A4)
        q4 = np.exp(A4 - lse)
        q3 = 1.0 - q4
        ll = (
            np.dot(wx, gammaln(r + ux) + betaln(a, b + ux))
            + W * (r * np.log(alpha) - gammaln(r) - betaln(a, b))
            + np.dot(w, lse)
        )
        wq3, wq4 = w * q3, w * q4
        iT = (1.0 / (alpha + st["uT"]))[st["iT"]]
        itx = (1.0 / (alpha + st["ut_x"]))[st["it_x"]]
        dr = (
            np.dot(wx, digamma(r + ux))
            + W * (np.log(alpha) - digamma(r))
            - np.dot(wq3, lT)
            - np.dot(wq4, ltx)
        )
        dalpha = W * r / alpha - np.dot(wq3 * (r + x), iT) - np.dot(wq4 * (r + x), itx)
        dab = digamma(a + b + ux)
        da = np.dot(wx, digamma(a) - dab) - W * (digamma(a) - digamma(a + b)) + wq4.sum() / a
        db = (
            np.dot(wx, digamma(b + ux) - dab)
            - W * (digamma(b) - digamma(a + b))
            - np.dot(wq4, np.where(pos_u, 1.0 / bx1, 0.0)[ix])
        )
        return float(ll), np.array([dr, dalpha, da, db])

    def _log_dead_ratio(self, theta, x, t_x, T):
        # ln[ a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) ], -inf when x = 0
        r, alpha, a, b = theta
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, v, -np.inf)

    def _p_alive(self, theta, x, t_x, T):
        # Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model" (Hardie note 021)
        return expit(-self._log_dead_ratio(theta, x, t_x, T))

    def _expected_if_alive(self, theta, x, T, t):
        # FHL (2005) eq. (10) without its P(alive) denominator. The Euler transformation
        #   ((a+T)/(a+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)
        # keeps the hypergeometric term bounded when x is in the thousands.
        r, alpha, a, b = theta
        z = t / (alpha + T + t)
        f = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        return (a + b + x - 1) / (a - 1) * (1 - np.exp((a - 1) * np.log1p(-z)) * f)

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
            lg = (
                gammaln(r + n)
                - gammaln(r)
                - gammaln(n + 1)
                + r * np.log(alpha / (alpha + t))
                + n * np.log(t / (alpha + t))
            )
            first = np.exp(betaln(a, b + n) - betaln(a, b) + lg)
            # the second term sums over j = 0 .. n-1
            out = np.empty_like(n)
            for i, ni in np.ndenumerate(n):
                if ni == 0:
                    out[i] = 0.0
                    continue
                j = np.arange(ni)
                terms = np.exp(
                    gammaln(r + j)
                    - gammaln(r)
                    - gammaln(j + 1)
                    + r * np.log(alpha / (alpha + t))
                    + j * np.log(t / (alpha + t))
                )
                out[i] = np.exp(betaln(a + 1, b + ni - 1) - betaln(a, b)) * (1 - terms.sum())
        return first + out
