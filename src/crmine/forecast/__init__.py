"""Sales forecasts from flat files: regular series per key, candidate models chosen per series by a
rolling-origin backtest, prediction intervals, zero or closed gaps.

``forecast`` does it all on a frame of sales rows and returns a ``ForecastResult`` (the forecast
table and the per-series backtest table).
"""

from crmine.forecast._forecast import ForecastResult, forecast
from crmine.forecast._models import MODELS

__all__ = ["MODELS", "ForecastResult", "forecast"]
