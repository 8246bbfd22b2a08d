"""The forecast's search: the first round's basis is shared by curves logged at the same steps."""

from __future__ import annotations

import numpy as np

from tbplateau.explain import forecast as fc


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
