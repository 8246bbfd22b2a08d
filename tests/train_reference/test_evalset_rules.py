"""The labelling rules of the evaluation set, on hand-made curves (numpy only, no detector)."""

from __future__ import annotations

import numpy as np
from train_reference.evalset.rules import Event, label_series


def _kinds(res: object) -> list[tuple[str, int, str]]:
    labels = res.labels  # type: ignore[attr-defined]
    return [(str(lb["kind"]), int(lb["start_step"]), str(lb["rule"])) for lb in labels]


def _decay(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n)
    return 2.0 * np.exp(-t / 6) + 0.1 + 0.002 * rng.standard_normal(n)


def test_one_step_collapse_is_divergence_then_a_plateau_on_the_new_level() -> None:
    rng = np.random.default_rng(0)
    v = _decay(60, rng)
    v[30:] = 5.0 + 0.001 * rng.standard_normal(30)
    res = label_series(np.arange(60), v, "min", [Event(30, "poison")])
    found = _kinds(res)
    assert ("divergence", 30, "collapse") in found
    assert any(k == "plateau" and s in (30, 31) for k, s, _ in found)
    assert "divergence" not in res.incomplete


def test_period_two_alternation_after_a_raise_is_an_oscillation_from_the_raise() -> None:
    rng = np.random.default_rng(1)
    v = _decay(80, rng)
    k = np.arange(40)
    v[40:] = 3.0 * np.where(k % 2 == 0, 2.0, 0.5)
    res = label_series(np.arange(80), v, "min", [Event(40, "lr x50")])
    assert ("oscillation", 40, "alternation") in _kinds(res)
    assert "divergence" in res.incomplete  # neither expected nor a false alarm there


def test_frozen_values_after_lr_zero_and_one_plateau_across_an_event_that_changed_nothing() -> None:
    v = np.concatenate([np.linspace(1.0, 0.5, 20), np.full(40, 0.5)])
    res = label_series(np.arange(60), v, "min", [Event(20, "lr x0"), Event(40, "lr drop")])
    plateaus = [lb for lb in res.labels if lb["kind"] == "plateau"]
    assert len(plateaus) == 1
    assert plateaus[0]["start_step"] == 20
    assert plateaus[0]["end_step"] is None
    assert plateaus[0]["exact"] is True


def test_first_nonfinite_and_a_short_spike_leave_divergence_unclaimed() -> None:
    rng = np.random.default_rng(2)
    v = _decay(50, rng)
    v[25] = 50.0  # one point: a blip, not a divergence
    v[45:] = np.nan
    res = label_series(np.arange(50), v, "min", [Event(25, "spike")])
    assert ("nonfinite", 45, "first_nonfinite") in _kinds(res)
    assert not any(k == "divergence" for k, _, _ in _kinds(res))
    assert "divergence" in res.incomplete


def test_a_curve_still_falling_has_no_plateau_and_is_fully_labelled_for_it() -> None:
    t = np.arange(80)
    v = 3.0 - 0.03 * t
    res = label_series(t, v, "min", [])
    assert res.labels == []
    assert "plateau" in res.complete


def test_a_loud_stretch_that_falls_a_third_is_not_flat_but_a_level_one_is() -> None:
    """Issue 8, class 6: loud irregular swings after a raise inflate the stretch's noise (from
    first differences), but a loss that falls by a third under them moves by more than the
    oscillation bar: no flat label from the raise. A level stretch after the raise is flat."""
    rng = np.random.default_rng(3)
    n, at = 90, 30
    base = _decay(n, rng)
    swings = np.exp(0.3 * rng.standard_normal(n - at))
    falling = base.copy()
    falling[at:] = 2.0 * np.exp(-0.4 * np.arange(n - at) / (n - at)) * swings
    found = _kinds(label_series(np.arange(n), falling, "min", [Event(at, "lr x40")]))
    assert not any(k == "plateau" and r == "flat" for k, _, r in found)
    level = base.copy()
    level[at:] = 2.0 * np.exp(0.02 * rng.standard_normal(n - at))
    found = _kinds(label_series(np.arange(n), level, "min", [Event(at, "lr x40")]))
    assert any(k == "plateau" and r == "flat" for k, _, r in found)


def _zigzag(level: float, swing: float, n: int) -> np.ndarray:
    """``n`` points alternating ``level * (1 ± swing)``."""
    return level * np.where(np.arange(n) % 2 == 0, 1.0 + swing, 1.0 - swing)


def test_a_long_alternation_away_from_any_event_leaves_oscillation_unclaimed() -> None:
    # period-2 swings on 60 % of the points: the noise of the whole series counts them and
    # would set the bar above the swings themselves; the quiet noise before the event does not
    rng = np.random.default_rng(7)
    v = _decay(180, rng)
    v[70:] = _zigzag(float(v[69]), 0.25, 110)
    res = label_series(np.arange(180), v, "min", [Event(40, "lr x3")])
    assert "oscillation" not in [k for k, _, _ in _kinds(res)]
    assert "oscillation" in res.incomplete


def test_a_quieter_alternation_past_a_labelled_one_leaves_oscillation_unclaimed() -> None:
    # the raise's loud swings are labelled; the quieter zigzag after them (below the event
    # rule's bar, above the completeness one) is no label, so the series is not complete
    t = np.arange(140)
    v = 2.0 * np.exp(-t / 6) + 0.1 + 0.0003 * np.random.default_rng(8).standard_normal(140)
    v[80:92] = _zigzag(1.5, 0.6, 12)
    v[92:] = _zigzag(1.2, 0.035, 48)
    res = label_series(np.arange(140), v, "min", [Event(80, "lr x50")])
    assert ("oscillation", 80, "alternation") in _kinds(res)
    assert "oscillation" in res.incomplete


def test_irregular_bouncing_on_a_new_level_is_neither_oscillation_nor_divergence() -> None:
    # After the raise the loss is thrown 20x up and bounces there, changing sign on four
    # steps in five (every fifth point stops halfway): not the regular swings between two
    # levels of an oscillation, not a clean rise either; neither kind is claimed there
    rng = np.random.default_rng(9)
    v = _decay(90, rng)
    sides = [0.0 if i % 5 == 4 else (-1.0) ** (i - i // 5) for i in range(50)]
    v[40:] = 20.0 * float(v[39]) * np.exp(0.6 * np.array(sides))
    res = label_series(np.arange(90), v, "min", [Event(40, "lr x100")])
    kinds = [k for k, _, _ in _kinds(res)]
    assert "oscillation" not in kinds
    assert "divergence" not in kinds
    assert {"oscillation", "divergence"} <= res.incomplete
    assert res.thrown


def test_a_blow_up_after_a_bump_that_came_back_starts_at_the_blow_up() -> None:
    # The raise makes the loss bump up for 3 points and come back; 25 points later it blows
    # up 20x for 10 points and recovers: the divergence is the blow-up (issue 8: its onset is
    # at the blow-up, not at a point before it), and the bump leaves divergence unclaimed
    rng = np.random.default_rng(10)
    v = _decay(120, rng)
    level = float(v[39])
    v[41:44] = level * np.array([1.3, 1.5, 1.3])
    v[70:80] = level * 20.0
    res = label_series(np.arange(120), v, "min", [Event(40, "lr x30")])
    div = [(s, r) for k, s, r in _kinds(res) if k == "divergence"]
    assert div == [(70, "spike")]
    assert "divergence" in res.incomplete


def test_a_growth_after_a_higher_bump_ends_at_its_own_peak() -> None:
    # The raise makes the loss jump 40x for two points and come back, then it grows for good
    # from 10 points later to 10x: the growth starts at its own rise and ends at its own peak,
    # never before its start (the bump's higher point is not the growth's peak)
    rng = np.random.default_rng(11)
    v = _decay(120, rng)
    level = float(v[39])
    v[41:43] = level * 40.0
    v[50:] = level * np.linspace(3.0, 10.0, 70)
    res = label_series(np.arange(120), v, "min", [Event(40, "lr x60")])
    growth = [lb for lb in res.labels if lb["rule"] == "growth"]
    assert len(growth) == 1
    start, end = growth[0]["start_step"], growth[0]["end_step"]
    assert isinstance(start, int)
    assert isinstance(end, int)
    assert start >= 48
    assert end >= start


def _swings_found(res: object) -> bool:
    return any("repeated swings" in n for n in res.notes)  # type: ignore[attr-defined]


def test_a_sawtooth_after_a_raise_leaves_oscillation_unclaimed() -> None:
    # Issue 8: an oscillation is a repeated swing, large relative to the level and the noise.
    # Six points after the raise the loss starts a sawtooth of period 5, swinging 5x each time:
    # no period-2 alternation at the raise (no label), but the series is not fully labelled
    rng = np.random.default_rng(12)
    v = _decay(120, rng)
    k = np.arange(74)
    v[46:] = 0.5 * np.exp(np.log(5.0) * ((k % 5) / 4 - 0.5))
    res = label_series(np.arange(120), v, "min", [Event(40, "lr x30")])
    assert "oscillation" not in [kind for kind, _, _ in _kinds(res)]
    assert "oscillation" in res.incomplete
    assert _swings_found(res)


def test_a_sine_burst_on_a_decaying_trend_leaves_oscillation_unclaimed() -> None:
    # Issue 8, class 2: a sine-like burst of period 6 (a factor 1.8 up and down, 6 periods)
    # on a decaying trend, 10 points after the raise
    rng = np.random.default_rng(13)
    v = _decay(120, rng) + 0.2 * np.exp(-np.arange(120) / 60)
    k = np.arange(36)
    v[50:86] *= np.exp(0.6 * np.sin(2 * np.pi * k / 6))
    res = label_series(np.arange(120), v, "min", [Event(40, "lr x10")])
    assert "oscillation" not in [kind for kind, _, _ in _kinds(res)]
    assert "oscillation" in res.incomplete
    assert _swings_found(res)


def test_noise_a_spike_or_a_collapse_onto_a_noisy_level_are_no_repeated_swings() -> None:
    # Issue 8, classes 1 and 3: noise at a loss floor that looks louder on a log scale, one
    # spike, a few isolated spikes, a one-step collapse onto a noisy level: none of them is a
    # repeated swing, so the series stays fully labelled for oscillation
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        floor = _decay(100, rng) + 0.01 * rng.standard_normal(100)
        spike = _decay(100, rng)
        spike[60] *= 5.0
        spikes = _decay(100, rng)
        spikes[[55, 70, 85]] *= 5.0
        collapse = _decay(100, rng)
        collapse[40:] = 2.0 * np.exp(0.03 * rng.standard_normal(60))
        # the floor's noise (10% of the level) also alternates now and then, which the
        # alternation rule counts; the repeated-swing rule must not see swings in it
        res = label_series(np.arange(100), floor, "min", [Event(40, "lr x3")])
        assert not _swings_found(res)
        for v in (spike, spikes, collapse):
            res = label_series(np.arange(100), v, "min", [Event(40, "lr x3")])
            assert not _swings_found(res)
            assert "oscillation" in res.complete


def test_swings_past_the_overfitting_onset_leave_oscillation_unclaimed() -> None:
    # A validation loss labelled overfitting from position 60 (a run-level label) that swings
    # period-2 after it: no rule labels that part, so the series is not complete for
    # oscillation (it was, and a detector's oscillation there counted as a false alarm).
    rng = np.random.default_rng(3)
    v = _decay(160, rng)
    v[60:] = float(v[59]) * np.exp(np.arange(100) / 80) * np.where(np.arange(100) % 2, 0.8, 1.2)
    res = label_series(np.arange(160), v, "min", [], explained_from=60)
    assert "oscillation" in res.incomplete
    assert any("past the overfitting onset" in n for n in res.notes)
    # without the swings the series stays complete for oscillation
    v[60:] = float(v[59]) * np.exp(np.arange(100) / 80)
    assert (
        "oscillation"
        not in label_series(np.arange(160), v, "min", [], explained_from=60).incomplete
    )
