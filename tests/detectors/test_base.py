"""The shared preparation's O(1) answers agree with their plain definitions."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from tbplateau.detectors.base import (
    SHORT_JUMP_POINTS,
    Levels,
    Prepared,
    Segment,
    _breaks,
    _lines,
    _path,
    _path_of,
    _segment,
    _segments,
    forget_prepared,
    jump_point,
    levels,
    prepare,
    stretch_kappa,
)
from tbplateau.detectors.plateau import PlateauDetector
from tbplateau.series import Series
from tbplateau.stats import Bins


def _prepared(values: list[float]) -> Prepared:
    s = Series("r", "loss", steps=np.arange(len(values)), values=np.asarray(values))
    return prepare(s, "max")


def test_is_constant_is_a_zero_range_of_two_or_more_raw_values() -> None:
    rng = np.random.default_rng(3)
    values = rng.choice([1.0, 2.0, -0.0, 0.0, np.nan, np.inf], 60).tolist()
    p = _prepared(values)
    for p0 in range(-2, p.n + 2):
        for p1 in range(-2, p.n + 2):
            raw = p.raw_range(p0, p1)
            expected = raw.size > 1 and float(np.ptp(raw)) == 0.0
            assert p.is_constant(p0, p1) is expected, (p0, p1)


def test_is_constant_of_a_long_quantised_series_as_its_definition() -> None:
    # more repeated values than LIST_POINTS: the positions are kept as an array
    rng = np.random.default_rng(4)
    values = np.repeat(rng.choice([0.5, 0.75, 1.0], 900), rng.integers(1, 12, 900))
    p = _prepared(values.tolist())
    assert not isinstance(p._repeats, list)
    for p0 in range(-3, p.n + 3, 7):
        for p1 in (p0 + 1, p0 + 2, p0 + 3, p0 + 9, p0 + 40, p.n + 2):
            raw = p.raw_range(p0, p1)
            expected = raw.size > 1 and float(np.ptp(raw)) == 0.0
            assert p.is_constant(p0, p1) is expected, (p0, p1)


def test_constant_segments_of_a_series_with_more_repeats_than_a_list_holds() -> None:
    # a loss frozen for 5,000 points (a dead network): the repeat positions are an array,
    # and every segment's constancy is still its definition (this once raised ValueError)
    values = np.r_[np.linspace(2.0, 1.0, 1000), np.full(5000, 1.0)]
    p = _prepared(values.tolist())
    assert not isinstance(p._repeats, list)
    expected = [float(np.ptp(p.raw_range(seg.p0, seg.p1))) == 0.0 for seg in p.segments]
    assert p.constant_segments == [
        e and seg.p1 - seg.p0 > 1 for e, seg in zip(expected, p.segments, strict=True)
    ]
    assert any(p.constant_segments)
    found = PlateauDetector().detect(
        Series("r", "loss", steps=np.arange(6000), values=values), "min"
    )
    assert [f.start_step for f in found if f.detail["constant"]] == [999]


def test_stretch_kappa_weighs_every_overlapping_segment_in_order() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(400.0)
    y = np.where(t < 150, -t / 50, -3.0) + np.where(t > 300, 2.0, 0.0)
    y = y + rng.normal(0, 0.1, t.size) + 0.3 * np.sin(t / 3)
    p = _prepared(y.tolist())
    assert len(p.segments) > 2
    m = len(p.bins)
    for b0 in range(-1, m + 2, 3):
        for b1 in range(b0, m + 2, 5):
            total, weight = 0.0, 0
            for seg in p.segments:
                w = min(b1, seg.b1) - max(b0, seg.b0)
                if w > 0:
                    total += w * seg.kappa
                    weight += w
            expected = total / weight if weight else p.kappa
            assert stretch_kappa(p, b0, b1) == expected, (b0, b1)


def _curve(seed: int, n: int = 600) -> Series:
    """A loss-like curve with autocorrelated noise, a drop and a bend."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    e = np.zeros(n)
    phi = 0.2 * (seed % 5)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal(0, 0.02)
    y = np.exp(-t / (50 + 40 * (seed % 7))) + 0.3 + np.where(t > n // 2, -0.1, 0.0) + e
    return Series("r", "loss", steps=t * 10, values=y)


def test_levels_kappa_is_the_kappa_of_the_segmentation_without_events() -> None:
    refitted = kept = 0
    for seed in range(40):
        lv = levels(_curve(seed), "min")
        expected = prepare(_curve(seed), "min").kappa
        assert lv.kappa == expected, seed
        refitted += expected != lv.first_kappa
        kept += expected == lv.first_kappa
    assert refitted
    assert kept


def test_prepare_shares_the_levels_whatever_the_events() -> None:
    s = _curve(3)
    lv = levels(s, "min")
    plain, cut = prepare(s, "min"), prepare(s, "min", (2000, 4000))
    assert cut.events
    assert not plain.events
    for p in (plain, cut):
        assert p.bins is lv.bins
        assert p.local is lv.local
        assert p.robust is lv.robust
        assert p.spread is lv.spread
        assert p.smooth is lv.smooth
        assert p.runs is lv.runs
        assert p.sigma == lv.sigma
        assert p.sigma_long == max(lv.sigma, lv.lag1 * p.kappa)
    assert plain.kappa == lv.kappa
    assert {seg.b0 for seg in cut.segments} >= set(cut.events)
    forget_prepared(s)
    assert levels(s, "min") is not lv
    assert prepare(s, "min") is not plain


def test_lines_and_breaks_are_those_of_the_segments() -> None:
    lv = levels(_curve(8), "min")
    breaks = _breaks(lv.bins, lv.robust, lv.local, lv.first_kappa, lv.runs, lv.n, (50,))
    assert 50 in breaks
    assert breaks == sorted(breaks)
    lines = _lines(lv.bins, lv.robust, breaks)
    segments = _segments(lv.bins, lv.robust, lines, lv.local, lv.n, lv.first_kappa)
    assert [(b0, b1) for b0, b1, *_ in lines] == [(seg.b0, seg.b1) for seg in segments]
    assert [(a, b) for _, _, a, b, _ in lines] == [(seg.level0, seg.level1) for seg in segments]
    pieces = [(b0, b1, l0, l1 - l0) for b0, b1, l0, l1, _ in lines]
    assert np.array_equal(_path_of(lv.bins, pieces), _path(lv.bins, segments))
    # a piece whose blocks do not move along x is flat at its mean
    one = _lines(lv.bins, lv.robust, list(range(1, len(lv.bins))))
    assert all(l0 == l1 == lv.robust[b0] and slope == 0.0 for b0, _, l0, l1, slope in one)


def _path_by_pieces(x: np.ndarray, pieces: list[tuple[int, int, float, float]]) -> np.ndarray:
    out = np.full(x.size, np.nan)
    for b0, b1, level0, change in pieces:
        xs = x[b0:b1]
        span = float(xs[-1] - xs[0])
        out[b0:b1] = level0 + (xs - xs[0]) * (change / span) if span > 0 else level0
    return out


def test_the_path_of_pieces_is_each_piece_s_line_to_the_bit() -> None:
    rng = np.random.default_rng(4)
    for trial in range(40):
        m = int(rng.integers(1, 60))
        # block abscissae with repeats (pieces that do not move along x) and wide scales
        x = np.sort(np.round(rng.uniform(0, 50, m)) * 10.0 ** rng.integers(-3, 6))
        bins = Bins(x, rng.normal(0, 1, m), np.arange(m), np.ones(m, dtype=np.int64))
        cuts = sorted(set(rng.integers(1, m, int(rng.integers(0, 6))).tolist())) if m > 1 else []
        edges = [0, *cuts, m]
        pieces = [
            (a, b, float(rng.choice([-0.0, 0.0, rng.normal(0, 1e3)])), float(rng.normal(0, 5)))
            for a, b in itertools.pairwise(edges)
        ]
        expected = _path_by_pieces(x, pieces)
        got = _path_of(bins, pieces)
        assert [v.hex() for v in got.tolist()] == [v.hex() for v in expected.tolist()], trial
        # pieces that do not tile the blocks: only their own blocks are written
        if len(pieces) > 1:
            part = _path_of(bins, pieces[1:])
            b0 = pieces[1][0]
            assert [v.hex() for v in part[b0:].tolist()] == [v.hex() for v in expected[b0:]]


def _jump_point_by_definition(p: Prepared, b: int) -> int:
    bins = p.bins
    lo = int(bins.start[b])
    if b == 0 or int(bins.count[b]) == 1:
        return lo
    a, hi = int(bins.start[b - 1]), lo + int(bins.count[b])
    before, after = float(bins.y[max(0, b - 2)]), float(bins.y[min(len(bins) - 1, b + 1)])
    ys = p.y[a:hi]
    for k in range(ys.size):
        tail = ys[k:]
        closer = np.abs(tail - after) < np.abs(tail - before)
        if closer[0] and np.count_nonzero(closer) >= 0.8 * tail.size:
            return a + k
    return lo


def test_jump_point_is_the_first_point_after_which_most_stay_on_the_new_side() -> None:
    moved = 0
    for seed in range(12):
        rng = np.random.default_rng(seed)
        n = 300 + 250 * seed
        y = np.where(np.arange(n) > rng.integers(50, n - 50), 1.0, 0.0) + rng.normal(0, 0.4, n)
        p = _prepared(y.tolist())
        for b in range(len(p.bins)):
            got = jump_point(p, b)
            assert got == _jump_point_by_definition(p, b), (seed, b)
            assert jump_point(p, b) == got == p.__dict__["_jump_points"][b]  # memoised
            moved += got != int(p.bins.start[b])
    assert moved


def test_jump_point_of_long_blocks_is_that_of_its_definition() -> None:
    # blocks of 100 points: the numpy scan rather than the short one in Python
    rng = np.random.default_rng(7)
    n = 20000
    y = np.where(np.arange(n) > 12345, 1.0, 0.0) + rng.normal(0, 0.4, n)
    p = _prepared(y.tolist())
    assert int(p.bins.count[0]) > SHORT_JUMP_POINTS
    for b in range(0, len(p.bins), 3):
        assert jump_point(p, b) == _jump_point_by_definition(p, b), b
    b = int(np.searchsorted(p.bins.start, 12345, side="right"))
    assert jump_point(p, b) == _jump_point_by_definition(p, b) != int(p.bins.start[b])


def test_the_refits_path_and_kappa_are_those_prepare_would_compute_again() -> None:
    shared = 0
    for seed in range(40):
        s = _curve(seed)
        p = prepare(s, "min", (1500,))
        memo = p.__dict__.get("_fitted_path")
        shared += memo is not None
        if memo is not None:  # the refit's path of the very pieces of the segments
            assert not memo.flags.writeable
            assert np.array_equal(memo, _path(p.bins, p.segments))
        plain = prepare(s, "min")
        lv = levels(s, "min")
        memo_kappa = lv.__dict__.pop("_kappa")  # set by prepare: computed again below
        assert lv.kappa == memo_kappa == plain.kappa, seed
    assert shared


def test_segment_memos_answer_as_the_segments_do() -> None:
    rng = np.random.default_rng(11)
    y = np.r_[np.linspace(0.0, 3.0, 150), np.full(60, 3.0), 5.0 + rng.normal(0, 0.1, 150)]
    p = _prepared(y.tolist())
    assert len(p.segments) > 2
    assert p.constant_segments == [p.is_constant(seg.p0, seg.p1) for seg in p.segments]
    assert any(p.constant_segments)
    assert p.segment_starts == {seg.b0: k for k, seg in enumerate(p.segments)}
    assert p.constant_segments is p.constant_segments  # memoised


def _dipped_accuracy(seed: int) -> Series:
    """An accuracy over 105 samples, steady at 0.95, that dips by a quarter for three points."""
    rng = np.random.default_rng(seed)
    n = 120
    acc = 0.95 - 0.6 * np.exp(-np.arange(n) / 6.0) + rng.normal(0, 0.008, n)
    acc[60:63] = 0.95 - np.array([0.18, 0.27, 0.14])
    return Series("r", "accuracy", steps=np.arange(n), values=np.round(acc * 105) / 105)


def test_the_view_with_outliers_out_is_the_same_view_where_nothing_outlies() -> None:
    rng = np.random.default_rng(0)
    s = Series("r", "loss", steps=np.arange(300), values=np.exp(-np.arange(300) / 80.0))
    s2 = Series("r", "loss", steps=np.arange(300), values=s.values + rng.normal(0, 1e-3, 300))
    for one in (s, s2):
        assert prepare(one, "min", outliers_out=True) is prepare(one, "min")


def test_the_view_with_outliers_out_cuts_a_dip_out() -> None:
    s = _dipped_accuracy(0)
    plain, robust = prepare(s, "max"), prepare(s, "max", outliers_out=True)
    assert plain is not robust
    # the residuals around the finer pieces are white: the factor refitted on them is less
    assert robust.kappa < plain.kappa
    assert not any(58 <= g.b0 <= 64 for g in plain.segments)
    assert any(59 <= g.b0 <= 61 for g in robust.segments)


def test_a_segment_built_without_init_is_the_dataclass_s() -> None:
    """``_segment`` makes the very object ``Segment(...)`` does: every field (a field added
    to Segment and not to ``_segment`` fails here), equal, hashable alike, frozen."""
    values = (1, 5, 3, 17, -0.5, 0.25, 0.75, 3.0, 0.25, -0.0, 1.5)
    made, built = _segment(*values), Segment(*values)
    assert type(made) is Segment
    assert made.__dict__ == built.__dict__
    assert list(made.__dict__) == list(built.__dict__)
    assert made == built
    assert hash(made) == hash(built)
    assert repr(made) == repr(built)
    assert made.points == 14
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.b0 = 2  # type: ignore[misc]


@pytest.mark.parametrize("holes", [False, True])
def test_raw_range_is_the_finite_points_values_fresh(holes: bool) -> None:
    """``raw_range(p0, p1)`` is ``values[pos[p0:p1]]`` for any slice bounds (the values
    sliced when every point is finite, gathered otherwise): a fresh, writable array."""
    rng = np.random.default_rng(5)
    values = rng.normal(0, 1, 40)
    if holes:
        values[[3, 17, 18]] = [np.nan, np.inf, -np.inf]
    p = _prepared(values.tolist())
    assert (p.pos.size == values.size) is not holes
    for p0 in range(-3, p.n + 3):
        for p1 in range(-3, p.n + 3):
            raw = p.raw_range(p0, p1)
            assert raw.tobytes() == p.series.values[p.pos[p0:p1]].tobytes(), (p0, p1)
            assert raw.dtype == np.float64
            assert raw.flags.writeable
            assert not np.shares_memory(raw, p.series.values)


@pytest.mark.parametrize("cls", [Levels, Prepared])
def test_levels_and_prepared_hold_every_field_as_their_dataclass_would(
    cls: type[Levels] | type[Prepared],
) -> None:
    """:func:`levels` and :func:`prepare` build their views without the dataclass
    ``__init__``: every field set (one added to the class alone fails here), in order,
    and the class's own ``__init__`` given those values makes an equal view."""
    rng = np.random.default_rng(6)
    values = np.exp(-np.arange(300) / 60) + rng.normal(0, 0.01, 300) + 0.5
    s = Series("r", "loss", steps=np.arange(300), values=values)
    view = levels(s, "min") if cls is Levels else prepare(s, "min", (150,))
    assert type(view) is cls
    names = [f.name for f in dataclasses.fields(cls)]
    assert list(view.__dict__)[: len(names)] == names
    rebuilt = cls(**{name: view.__dict__[name] for name in names})
    assert all(getattr(rebuilt, name) is view.__dict__[name] for name in names)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.sigma = 1.0  # type: ignore[misc]
