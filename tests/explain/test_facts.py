"""``explain.facts``: what the partner did after a step (computed once per context), and the
replayed early stop."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tbplateau.explain import facts
from tbplateau.explain.facts import SeriesContext, early_stopping, partner_improving
from tbplateau.explain.forecast import Forecast
from tbplateau.goals import tag_meaning
from tbplateau.report import SeriesReport
from tbplateau.series import Series


def _context(partner: Series | None) -> SeriesContext:
    steps = np.arange(100) * 10
    curve = Series("r", "val/loss", steps=steps, values=np.full(100, 1.0))
    summary = SeriesReport("val/loss", "min", 100, 0, 0, 990, 0, 1.0, 1.0, ())
    return SeriesContext(
        "r", summary, (), curve, "step", tag_meaning("val/loss"), side="validation",
        partner=partner, partner_name="train/loss",
    )  # fmt: skip


def test_partner_improving_is_memoised_by_step_and_the_same_as_computed() -> None:
    steps = np.arange(100) * 10
    falling = Series("r", "train/loss", steps=steps, values=np.linspace(2.0, 0.5, 100))
    ctx = _context(falling)
    first = partner_improving(ctx, 200)
    assert first == facts._partner_improving(ctx, falling, 200)
    assert first is not None
    assert first[0] > first[1]
    assert partner_improving(ctx, 200) is first  # (memoised)
    assert partner_improving(ctx, 980) == facts._partner_improving(ctx, falling, 980)
    assert ctx == replace(ctx)  # the memo takes no part in equality
    flat = Series("r", "train/loss", steps=steps, values=np.full(100, 0.5))
    assert partner_improving(_context(flat), 200) is None
    assert partner_improving(_context(None), 200) is None


def _early_stopping_text(values: np.ndarray) -> str:
    s = Series("r", "accuracy", steps=np.arange(values.size), values=values)
    return early_stopping(s, "max", "epoch")


def test_an_early_stop_that_would_have_lost_the_later_best_names_it() -> None:
    # Alwaysproblem: a noisy accuracy that stalls at 0.55 for 15 epochs, then climbs to 0.98
    rng = np.random.default_rng(0)
    acc = np.r_[np.linspace(0.3, 0.55, 15), np.full(25, 0.55), np.linspace(0.55, 0.98, 60)]
    text = _early_stopping_text(acc + rng.normal(0.0, 0.003, acc.size))
    assert "stopped at epoch 31 with patience=10 (missing its later best, 0.97" in text, text
    assert "saving" not in text, text


def test_an_early_stop_on_a_finished_curve_counts_what_it_saves() -> None:
    acc = np.r_[np.linspace(0.3, 0.9, 20), np.full(60, 0.9)]
    text = _early_stopping_text(acc)
    assert "saving" in text, text
    assert "missing" not in text, text
    # the replay's rule is Keras' and Lightning's alike: not named "Keras" on every run
    assert text.startswith("EarlyStopping (as Keras and Lightning count patience) would"), text


def test_the_outlook_says_its_now_is_the_fitted_curves() -> None:
    # reduce_lr_on_plateau/train loss: the fitted curve is at 0.2365 where the last logged
    # value is 0.2243; "0.2365 now" read as a number that is not in the data
    fc = Forecast("power law", "min", 50, 100, 0.2365, 0.2, 0.18, 0.22, 0.004)
    text = facts.outlook(fc, "epoch")
    assert text is not None
    assert "against 0.2365 on that curve now" in text, text


def test_an_outlook_whose_band_is_wider_than_its_values_says_it_cannot_tell() -> None:
    # a reward forecast at 30.6 with a 95% band of -32.04 to 93.22 says nothing
    fc = Forecast("power law", "max", 500, 1000, 28.0, 30.6, -32.04, 93.22, 1.5)
    text = facts.outlook(fc, "step")
    assert text is not None
    assert "too uncertain to forecast" in text, text
    assert "keep training" not in text, text
