"""The forecast's search: the first round's basis is shared by curves logged at the same steps."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from tbplateau import stats
from tbplateau.explain import forecast as fc
from tbplateau.findings import Goal
from tests.helpers import compiled_kernels


def _models(x: np.ndarray) -> list[fc._Model]:
    u = (x - x[0]) / (x[-1] - x[0])
    return [("power law", x / x[-1], (0.01, 6.0)), ("exponential", u, (0.01, 50.0))]


def test_first_round_is_the_stacked_basis_and_its_row_sums_memoised() -> None:
    fc._FIRST_ROUNDS.clear()
    models = _models(np.linspace(50.0, 100.0, 40))
    basis, sf, sff = fc._first_round(models)
    fresh = np.vstack([fc._basis(m, x, fc._first_grid(b)[0]) for m, x, b in models])
    assert basis.tobytes() == fresh.tobytes()
    assert sf.tobytes() == fresh.sum(axis=1).tobytes()
    assert sff.tobytes() == np.einsum("ij,ij->i", fresh, fresh).tobytes()
    assert not basis.flags.writeable
    assert fc._first_round(_models(np.linspace(50.0, 100.0, 40)))[0] is basis
    for k in range(fc._FIRST_ROUNDS_KEPT + 3):
        fc._first_round(_models(np.linspace(50.0, 100.0 + k, 40)))
    assert len(fc._FIRST_ROUNDS) == fc._FIRST_ROUNDS_KEPT
    assert fc._first_round(models)[0] is not basis  # dropped, computed again


def test_best_ab_with_known_sums_is_the_same() -> None:
    rng = np.random.default_rng(2)
    f = rng.random((9, 30))
    y = 0.3 + 2.0 * f[4] + rng.normal(0, 0.01, 30)
    box = (0.0, 5.0, 0.0, 10.0)
    plain = fc._best_ab(f, y, box)
    known = fc._best_ab(f, y, box, fc._row_sums(f))
    assert all(p.tobytes() == k.tobytes() for p, k in zip(plain, known, strict=True))
    assert int(np.argmin(plain[2])) == 4


def test_forecasts_of_curves_at_the_same_steps_do_not_depend_on_the_order() -> None:
    t = np.arange(1, 401)
    rng = np.random.default_rng(0)
    curves = [0.2 + k * t**-0.5 + rng.normal(0, 0.003, t.size) for k in (1.0, 2.0, 3.0)]
    fc._FIRST_ROUNDS.clear()
    first = [fc.forecast(t, v, "min") for v in curves]
    fc._FIRST_ROUNDS.clear()
    again = [fc.forecast(t, v, "min") for v in reversed(curves)][::-1]
    assert first == again
    assert all(f is not None for f in first)


def test_windows_of_the_steps_are_memoised_and_the_same_as_computed() -> None:
    fc._WINDOWS.clear()
    t = np.arange(1, 401).astype(np.float64)
    w = fc._steps_window(t)
    fresh = fc._window(t, np.ones(t.size, dtype=bool))
    assert w is not None
    assert fresh is not None
    assert fc._steps_window(t.copy()) is w  # by the bytes of the steps
    assert (w.last, w.target) == (fresh.last, fresh.target) == (400.0, 799.0)
    pairs = [(w.win, fresh.win), *zip(w.args, fresh.args, strict=True)]
    assert all(a.tobytes() == b.tobytes() and not a.flags.writeable for a, b in pairs)
    for k in range(fc._WINDOWS_KEPT + 2):
        fc._steps_window(t + k + 1)
    assert len(fc._WINDOWS) == fc._WINDOWS_KEPT
    assert fc._steps_window(np.arange(5.0)) is None  # too short: memoised as None too
    assert fc._steps_window(np.arange(5.0)) is None


def test_second_rounds_memoised_by_the_picks_give_the_same_search() -> None:
    t = np.arange(1, 401)
    rng = np.random.default_rng(6)
    curves = [0.2 + k * t**-0.5 + rng.normal(0, 0.003, t.size) for k in (1.0, 1.0, 2.0, 2.0)]
    fc._WINDOWS.clear()
    w = fc._steps_window(t.astype(np.float64))
    assert w is not None
    for v in curves:
        y = stats.bin_medians(v[w.win], 100)
        box = fc._box("min", y, v)
        before = len(w.rounds)
        memoised = fc._search(w.models, w.args, y, box, w.rounds)
        assert memoised == fc._search(w.models, w.args, y, box)  # no memo: computed afresh
        assert memoised == fc._search(w.models, w.args, y, box, w.rounds)  # a hit
        assert len(w.rounds) in (before, before + 1)
    assert 1 <= len(w.rounds) <= fc._SECOND_ROUNDS_KEPT
    assert all(not a.flags.writeable for found in w.rounds.values() for a in found)
    some = next(iter(w.rounds.values()))
    full: dict[tuple[int, ...], fc._Round] = {(-1, k): some for k in range(fc._SECOND_ROUNDS_KEPT)}
    y = stats.bin_medians(curves[0][w.win], 100)
    fc._search(w.models, w.args, y, fc._box("min", y, curves[0]), full)
    assert len(full) == fc._SECOND_ROUNDS_KEPT  # full: no more kept


def test_forecast_of_a_curve_with_non_finite_points_fits_the_finite_ones() -> None:
    t = np.arange(1, 401)
    rng = np.random.default_rng(4)
    v = 0.2 + 2.0 * t**-0.5 + rng.normal(0, 0.003, t.size)
    holed = v.copy()
    holed[[250, 300]] = np.nan
    got = fc.forecast(t, holed, "min")
    want = fc.forecast(np.delete(t, [250, 300]), np.delete(v, [250, 300]), "min")
    assert got is not None
    assert repr(got) == repr(want)
    holed[-1] = np.inf
    assert fc.forecast(t, holed, "min") is None  # a non-finite last point: no forecast


def _compiled_best_ab() -> Callable[..., bool]:
    return compiled_kernels().best_ab


def _bits(arrays: tuple[np.ndarray, ...]) -> list[list[str]]:
    return [[float(v).hex() for v in a.tolist()] for a in arrays]


AWKWARD = [0.0, -0.0, 1.0, -1.0, 1e-300, 3.5, 1e300, np.inf, -np.inf, np.nan]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_best_ab_kernel_agrees_with_numpy_to_the_bit() -> None:
    best_ab = _compiled_best_ab()
    rng = np.random.default_rng(5)
    cases = [(rng.normal(0, 3, 200), rng.random(200) * 9, rng.normal(0, 3, 200))]
    grid = np.array(list(itertools.product(AWKWARD, repeat=3))).T  # every awkward triple
    cases.append((grid[0], grid[1], grid[2]))
    cases.append((np.repeat(grid[0], 2)[::2], grid[1], grid[2][::-1]))  # strided
    boxes = [
        (0.0, 5.0, 0.0, 10.0),
        (-2.0, 2.0, -10.0, 0.0),
        (-0.0, 0.0, 0.0, 0.0),
        (0.0, -0.0, -0.0, 0.0),
        (-np.inf, np.inf, np.nan, 1.0),
        (np.nan, 1.0, 0.0, np.nan),
    ]
    for (sf, sff, sfy), box, n, sy, syy in itertools.product(
        cases, boxes, (30.0, 1.0), (0.0, -0.0, 4.5, -7.25), (0.0, 12.0, np.inf)
    ):
        rows = sf.size
        got = (np.full(rows, 7.0), np.full(rows, 7.0), np.full(rows, 7.0))
        assert best_ab(sf, sff, sfy, n, sy, syy, *box, *got)
        want = fc._edge_optima(n, sy, syy, sf, sff, sfy, box)
        assert _bits(got) == _bits(want)


def test_best_ab_kernel_declines_what_it_cannot_compute() -> None:
    best_ab = _compiled_best_ab()
    x, out = np.arange(4.0), np.full(4, 7.0)
    box = (0.0, 1.0, 0.0, 1.0)
    assert not best_ab(x, x[:3], x, 4.0, 1.0, 1.0, *box, out, out, out)  # lengths differ
    assert not best_ab(x.astype(np.float32), x, x, 4.0, 1.0, 1.0, *box, out, out, out)
    assert out.tolist() == [7.0] * 4
    with pytest.raises(ValueError, match="float64"):
        best_ab(x, x, x, 4.0, 1.0, 1.0, *box, out, out, np.empty(3))


def test_forecasts_are_the_same_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "KERNELS", compiled_kernels())  # (None under TBPLATEAU_PURE_PYTHON)
    assert fc._ab_kernel() is not None
    rng = np.random.default_rng(3)
    t = np.arange(1, 301)
    curves: list[tuple[np.ndarray, Goal]] = [
        (0.2 + 2.0 * t**-0.5 + rng.normal(0, 0.003, t.size), "min"),
        (0.9 - 0.5 * np.exp(-t / 60.0) + rng.normal(0, 0.01, t.size), "max"),
        (np.full(t.size, 0.5), "min"),  # flat: every fit on an edge
        (0.5 + 1e-3 * t + rng.normal(0, 0.01, t.size), "min"),  # worsening
    ]
    fast = [fc.forecast(t, v, g) for v, g in curves]
    monkeypatch.setattr(stats, "KERNELS", None)
    assert fc._ab_kernel() is None
    slow = [fc.forecast(t, v, g) for v, g in curves]
    assert repr(fast) == repr(slow)
    assert sum(f is not None for f in fast) >= 3


def test_thin_svd_is_numpys_to_the_bit() -> None:
    rng = np.random.default_rng(4)
    for rows, cols in ((3, 3), (12, 3), (100, 3), (7, 2)):
        for a in (rng.normal(size=(rows, cols)), np.ones((rows, cols)), np.zeros((rows, cols))):
            mine = fc._svd(a)
            numpys = np.linalg.svd(a, full_matrices=False)
            assert all(x.tobytes() == y.tobytes() for x, y in zip(mine, numpys, strict=True))


def test_thin_svd_raises_as_numpy_does() -> None:
    bad = np.full((5, 3), np.nan)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.svd(bad, full_matrices=False)
    with pytest.raises(np.linalg.LinAlgError):
        fc._svd(bad)
