"""BG/BB: Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time Noncontractual
Setting", Marketing Science 29(6) (FHS10 below).

Each period (a year, a campaign) a customer who is alive transacts with probability p ~ Beta(alpha,
beta); at the start of each period after the first they drop out for good with probability
theta ~ Beta(gamma, delta).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, gammaln, logsumexp

from crmine.clv._base import TransactionModel

__all__ = ["BetaGeoBetaBinom"]

_HINT = (
    "BetaGeoBetaBinom needs one row per customer (or per distinct history, with a weights column) "
    "with frequency (periods with a transaction after the first), recency (the last such period, "
    "0 when none) and periods (transaction opportunities observed)."
)


def _log_lik(theta, x, t_x, n):
    """ln L(alpha, beta, gamma, delta | x, t_x, n), FHS10 section 3 (the likelihood function):

    L = B(al+x, be+n-x)/B(al, be) * B(ga, de+n)/B(ga, de)
        + sum_{i=0}^{n-t_x-1} B(al+x, be+t_x-x+i)/B(al, be) * B(ga+1, de+t_x+i)/B(ga, de)
    The sum runs over the period in which the customer dropped out; it is taken with logsumexp.
    """
    al, be, ga, de = theta
    shape = np.broadcast(x, t_x, n).shape
    x, t_x, n = (np.broadcast_to(v, shape).ravel() for v in (x, t_x, n))
    base = -betaln(al, be) - betaln(ga, de)
    alive = betaln(al + x, be + n - x) + betaln(ga, de + n) + base
    k = int(np.max(n - t_x)) if len(n) else 0
    if k > 0:
        i = np.arange(k)[None, :]
        terms = (
            betaln(al + x[:, None], be + t_x[:, None] - x[:, None] + i)
            + betaln(ga + 1, de + t_x[:, None] + i)
            + base
        )
        terms = np.where(i < (n - t_x)[:, None], terms, -np.inf)
        out = logsumexp(np.column_stack([alive, terms]), axis=1)
    else:
        out = alive
    return out.reshape(shape)


class BetaGeoBetaBinom(TransactionModel):
    """The BG/BB model of discrete-time repeat transactions (parameters alpha, beta, gamma, delta).

    Fit on a table with ``frequency``, ``recency``, ``periods`` and optional ``weights`` (customers
    per row), such as :func:`crmine.datasets.load_donations`. Times are counted in periods.

    Examples
    --------
    >>> from crmine.clv import BetaGeoBetaBinom
    >>> from crmine.datasets import load_donations
    >>> m = BetaGeoBetaBinom().fit(load_donations())
    >>> {k: round(v, 3) for k, v in m.params_.items()}
    {'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _columns = ("frequency", "recency", "periods")
    _hint = _HINT

    def _rules(self, x, t_x, n):
        problems = []
        for name, arr in (("recency", t_x), ("periods", n)):
            frac = int(np.sum(arr != np.round(arr)))
            if frac:
                problems.append(f"column {name!r} has {frac} non-integer value(s)")
        over = int(np.sum(t_x > n))
        if over:
            problems.append(f"{over} row(s) have recency greater than periods")
        more = int(np.sum(x > t_x))
        if more:
            problems.append(f"{more} row(s) have frequency greater than recency")
        zero = int(np.sum((x == 0) & (t_x > 0)))
        if zero:
            problems.append(f"{zero} row(s) have frequency 0 but recency > 0")
        return problems

    def _possible(self, X, R):
        return super()._possible(X, R) & (X <= R)

    def _loglik_rows(self, theta, stats):
        return _log_lik(theta, stats["x"], stats["t_x"], stats["T"])

    def _p_alive(self, theta, x, t_x, n, *, ahead: int = 1):
        # FHS10 section 4 (P(alive)): alive in period n + ahead given the history,
        #   B(al+x, be+n-x)/B(al, be) * B(ga, de+n+ahead)/B(ga, de) / L
        al, be, ga, de = theta
        log_num = (
            betaln(al + x, be + n - x)
            - betaln(al, be)
            + betaln(ga, de + n + ahead)
            - betaln(ga, de)
        )
        return np.exp(log_num - _log_lik(theta, x, t_x, n))

    def _expected_if_alive(self, theta, x, n, t):
        # FHS10 section 4 (conditional expectations): transactions in periods n+1 .. n+t are
        #   1/L * B(al+x+1, be+n-x)/B(al, be) * de/(ga-1) * G(ga+de)/G(1+de)
        #       * [G(1+de+n)/G(ga+de+n) - G(1+de+n+t)/G(ga+de+n+t)];
        # divided here by P(alive in period n+1) (see _p_alive), so that L cancels.
        al, be, ga, de = theta
        g1 = gammaln(1 + de + n) - gammaln(ga + de + n)
        g2 = gammaln(1 + de + n + t) - gammaln(ga + de + n + t)
        bracket = np.exp(g1) * -np.expm1(g2 - g1) / (ga - 1)  # > 0 on both sides of ga = 1
        log_front = (
            betaln(al + x + 1, be + n - x)
            - betaln(al + x, be + n - x)
            + np.log(de)
            + gammaln(ga + de)
            - gammaln(1 + de)
            - betaln(ga, de + n + 1)
            + betaln(ga, de)
        )
        return np.exp(log_front) * bracket

    def _expected_new(self, theta, t):
        # FHS10 section 4 (the mean): E[X(n)] = al/(al+be) * de/(ga-1)
        #   * [1 - G(ga+de)/G(ga+de+n) * G(1+de+n)/G(1+de)]
        al, be, ga, de = theta
        g = gammaln(ga + de) - gammaln(ga + de + t) + gammaln(1 + de + t) - gammaln(1 + de)
        return al / (al + be) * de * -np.expm1(g) / (ga - 1)

    def probability_alive(self, data: pd.DataFrame, /, *, periods_ahead: int = 1) -> pd.Series:
        """Probability that each customer is alive in period ``periods`` + ``periods_ahead``.

        FHS10 report P(alive in period n+1), the default; ``periods_ahead=0`` gives alive at n.
        """
        theta = self._check_fitted()
        x, t_x, n, _ = self._read(data, f"{self._name}.probability_alive data")
        val = self._on_unique(lambda *a: self._p_alive(theta, *a, ahead=periods_ahead), x, t_x, n)
        return pd.Series(val, index=data.index, name="probability_alive")
