"""Gamma-Gamma spend model: Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", JMR 42(4), as set out in Fader & Hardie (2013), "The Gamma-Gamma Model of
Monetary Value" (Hardie note 025, FH13 below).

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, gamma) across customers; the
model is fit on the mean value of each customer's repeat transactions and their number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crmine.clv._base import BaseModel, compress, read_columns
from crmine.errors import SchemaError

__all__ = ["GammaGamma"]

_HINT = (
    "GammaGamma needs frequency (repeat purchases) and monetary (the mean value of the repeat "
    "purchases), as made by crmine.clv.rfm_summary(..., monetary_col='amount')."
)


class GammaGamma(BaseModel):
    """The Gamma-Gamma model of average transaction value (parameters p, q, gamma).

    Fit on ``frequency`` and ``monetary`` (the lifetimes convention: the mean of the per-day
    totals of the repeat purchases), using the customers with ``frequency > 0`` only; an optional
    ``weights`` column counts customers per row.

    Examples
    --------
    >>> from crmine.clv import GammaGamma, rfm_summary
    >>> from crmine.datasets import load_cdnow_sample
    >>> rfm = rfm_summary(load_cdnow_sample(), observation_end="1997-09-30", monetary_col="amount")
    >>> m = GammaGamma().fit(rfm)
    >>> {k: round(v, 2) for k, v in m.params_.items()}
    {'p': 6.25, 'q': 3.74, 'gamma': 15.44}
    """

    _param_names = ("p", "q", "gamma")

    def _read(self, data, where, *, weights=False):
        cols = read_columns(
            data,
            ("frequency", "monetary"),
            where=where,
            hint=_HINT,
            integer=("frequency",),
            optional=("weights",) if weights else (),
        )
        x, z = cols["frequency"], cols["monetary"]
        bad = int(np.sum((x > 0) & (z <= 0)))
        if bad:
            raise SchemaError(
                f"{where} breaks the rules: {bad} row(s) with frequency > 0 have monetary <= 0 (the "
                f"model needs positive spend; drop returns-only customers first). {_HINT}"
            )
        return x, z, cols.get("weights")

    def _stats(self, data, where):
        x, z, w = self._read(data, where, weights=True)
        keep = x > 0
        if w is not None:
            keep &= w > 0
        if not keep.any():
            raise SchemaError(
                f"{where} has no customer with frequency > 0 (a repeat purchase). {_HINT}"
            )
        (x, z), _, counts = compress(x[keep], z[keep], weights=None if w is None else w[keep])
        ux, xinv = np.unique(x, return_inverse=True)
        return {
            "x": x,
            "z": z,
            "w": counts,
            "s": x * z,
            "ux": ux,
            "wx": np.bincount(xinv, weights=counts),
            "C1": np.dot(counts, x * (np.log(z) + np.log(x))),
            "C2": np.dot(counts, np.log(z)),
        }

    def _default_init(self, stats):
        mean_z = float(np.dot(stats["w"], stats["z"]) / stats["w"].sum())
        return {"p": 1.0, "q": 2.0, "gamma": max(mean_z, 1e-6)}

    def _loglik_rows(self, theta, stats):
        # FH13 eq. (1a), per row
        p, q, g = theta
        x, z = stats["x"], stats["z"]
        return (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(g)
            + (p * x - 1) * np.log(z)
            + p * x * np.log(x)
            - (p * x + q) * np.log(g + x * z)
        )

    def _loglik_and_grad(self, theta, stats):
        # FH13 eq. (1a) summed, with the per-customer terms gathered into sufficient statistics:
        # only ln(gamma + x z) and 1/(gamma + x z) are evaluated per customer.
        p, q, g = theta
        ux, wx, w, x = stats["ux"], stats["wx"], stats["w"], stats["x"]
        W = w.sum()
        L = np.log(g + stats["s"])
        inv = 1.0 / (g + stats["s"])
        wxL, wL = np.dot(w * x, L), np.dot(w, L)
        ll = (
            np.dot(wx, gammaln(p * ux + q) - gammaln(p * ux))
            - W * gammaln(q)
            + W * q * np.log(g)
            + p * stats["C1"]
            - stats["C2"]
            - p * wxL
            - q * wL
        )
        dg_x = digamma(p * ux + q)
        dp = np.dot(wx, ux * (dg_x - digamma(p * ux))) + stats["C1"] - wxL
        dq = np.dot(wx, dg_x) - W * digamma(q) + W * np.log(g) - wL
        dgam = W * q / g - p * np.dot(w * x, inv) - q * np.dot(w, inv)
        return float(ll), np.array([dp, dq, dgam])

    def _loglik(self, theta, stats):
        return self._loglik_and_grad(theta, stats)[0]

    def expected_spend(self, data: pd.DataFrame, /) -> pd.Series:
        """Expected mean transaction value of each customer, FH13 eq. (5).

        E[M | x, m_x] = (q-1)/(px+q-1) * p gamma/(q-1) + px/(px+q-1) * m_x: a weighted mean of the
        population mean and the customer's own mean; customers without a repeat purchase get the
        population mean p gamma / (q-1).

        Returns
        -------
        pandas.Series
            Named ``expected_spend``, indexed like ``data``.
        """
        p, q, g = self._check_fitted()
        x, z, _ = self._read(data, f"{self._name}.expected_spend data")
        z = np.where(x > 0, z, 0.0)
        with np.errstate(all="ignore"):
            val = p * (g + x * z) / (p * x + q - 1)
        return pd.Series(val, index=data.index, name="expected_spend")

    def expected_spend_new_customer(self) -> float:
        """The population mean transaction value p gamma / (q - 1) (infinite when q <= 1)."""
        p, q, g = self._check_fitted()
        return float(p * g / (q - 1)) if q > 1 else float("inf")
