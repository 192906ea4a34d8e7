"""Small public datasets shipped with crmine, with published results to check models against.

Both files come from Fader & Hardie's public research data, as shipped in the ``lifetimes`` 0.11.3
wheel (MIT licence) under ``lifetimes/datasets/``.

- ``cdnow_sample.csv``: the 1/10th sample of CDNOW customers used in Fader, Hardie & Lee (2005),
  2,357 customers who first bought in the first quarter of 1997, with all their purchases to the end
  of June 1998 (6,919 transactions).
- ``donations.csv``: the donations data of Fader, Hardie & Shang (2010), 11,104 donors summarised as
  (frequency, recency, periods) with a count of donors per row.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow_sample", "load_donations"]


def _open(name: str):
    # Resolved from the top-level package so that it works whatever crmine.datasets is.
    return resources.files("crmine").joinpath("datasets", "data", name).open("rb")


def load_cdnow_sample() -> pd.DataFrame:
    """The CDNOW sample: one row per transaction, in the canonical column names.

    Returns
    -------
    pandas.DataFrame
        Columns ``customer_id`` (string), ``ts`` (datetime64, the day of purchase), ``quantity``
        (CDs bought) and ``amount`` (USD), sorted by customer and time.

    Examples
    --------
    >>> from crmine.datasets import load_cdnow_sample
    >>> tx = load_cdnow_sample()
    >>> len(tx), tx["customer_id"].nunique()
    (6919, 2357)
    """
    with _open("cdnow_sample.csv") as f:
        raw = pd.read_csv(f, dtype={"customer_id": str, "date": str})
    out = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype(str),
            "ts": pd.to_datetime(raw["date"], format="%Y-%m-%d"),
            "quantity": raw["quantity"].astype("int64"),
            "amount": raw["amount"].astype("float64"),
        }
    )
    return out.sort_values(["customer_id", "ts"], kind="stable", ignore_index=True)


def load_donations() -> pd.DataFrame:
    """The donations data of Fader, Hardie & Shang (2010), for the BG/BB model.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency`` (years with a donation after the first), ``recency`` (the last such
        year, 0 when none), ``periods`` (6, the years observed) and ``weights`` (donors in the row).

    Examples
    --------
    >>> from crmine.datasets import load_donations
    >>> d = load_donations()
    >>> int(d["weights"].sum())
    11104
    """
    with _open("donations.csv") as f:
        raw = pd.read_csv(f)
    return raw.astype(
        {"frequency": "int64", "recency": "int64", "periods": "int64", "weights": "int64"}
    )
