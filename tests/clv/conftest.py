"""Shared data for the CLV tests: the CDNOW sample summarised as in the papers, and fitted models."""

from __future__ import annotations

import pytest

from crmine.clv import BetaGeo, GammaGamma, rfm_summary
from crmine.datasets import load_cdnow_sample

# Fader, Hardie & Lee (2005): weeks, calibration 1997-01-01 .. 1997-09-30, holdout to 1998-06-30.
CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow():
    return load_cdnow_sample()


@pytest.fixture(scope="session")
def cdnow_rfm(cdnow):
    return rfm_summary(
        cdnow, observation_end=CALIBRATION_END, holdout_end=HOLDOUT_END, monetary_col="amount"
    )


@pytest.fixture(scope="session")
def bgnbd(cdnow_rfm):
    return BetaGeo().fit(cdnow_rfm)


@pytest.fixture(scope="session")
def gamma_gamma(cdnow_rfm):
    return GammaGamma().fit(cdnow_rfm)
