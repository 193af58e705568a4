"""Holt's forecast follows a trend and reports its own error."""

from __future__ import annotations

import random

from dirigent.watch.forecast import Holt


def test_a_growing_lag_is_forecast_ahead_of_the_last_sample() -> None:
    h = Holt(horizon=6)
    for i in range(60):
        h.update(100.0 + 20.0 * i)  # lag grows by 20 records a sample
    assert abs(h.forecast() - (100 + 20 * 59 + 6 * 20)) < 5
    assert h.mae is not None
    assert h.mae < 5


def test_the_error_reflects_noise_and_a_drained_lag_never_forecasts_below_zero() -> None:
    rng = random.Random(3)
    noisy = Holt(horizon=3)
    for _ in range(200):
        noisy.update(max(0.0, 50 + rng.gauss(0, 20)))
    assert noisy.mae is not None
    assert 10 < noisy.mae < 60
    draining = Holt(horizon=10)
    for x in (500.0, 300.0, 100.0, 0.0):
        draining.update(x)
    assert draining.forecast() == 0.0
    assert draining.trend < 0
