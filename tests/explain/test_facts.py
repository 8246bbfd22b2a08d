"""``explain.facts``: what the partner did after a step is computed once per context."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from tbplateau.explain import facts
from tbplateau.explain.facts import SeriesContext, partner_improving
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
