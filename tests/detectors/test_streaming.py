"""The streaming form reaches the same findings as the batch form on the same data."""

from __future__ import annotations

import numpy as np
import pytest

from tbplateau.detectors import REGISTRY, NonFiniteDetector, OverfittingDetector
from tbplateau.detectors.base import onset_tolerance
from tbplateau.evaluation.synthetic import generate_cases
from tbplateau.findings import FindingKind
from tbplateau.series import Series

CASES = generate_cases(21, per_family=2, long_series=False)


def _stream_series(kind: FindingKind, s: Series, goal: str | None) -> tuple[list, list]:  # type: ignore[type-arg]
    det = REGISTRY[kind]()
    det.start(goal, run=s.run, tag=s.tag)  # type: ignore[arg-type]
    noticed = []
    for step, value in zip(s.steps.tolist(), s.values.tolist(), strict=True):
        f = det.update(step, value)
        if f is not None:
            assert f.noticed_step is not None
            assert f.noticed_step <= step
            noticed.append(f)
    noticed += det.flush()
    assert [f.to_dict() for f in det.findings] == [f.to_dict() for f in det.detect(s, goal)]  # type: ignore[arg-type]
    return noticed, det.detect(s, goal)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", [k for k in REGISTRY if k is not FindingKind.OVERFITTING], ids=str)
def test_every_batch_finding_is_noticed_by_the_stream(kind: FindingKind) -> None:
    checked = 0
    for case in CASES:
        for s in case.logdir.iter_series():
            if len(s) > 1500:
                continue
            noticed, batch = _stream_series(kind, s, "min")
            tol = onset_tolerance(len(s))
            pos = {int(st): i for i, st in enumerate(s.steps.tolist())}
            for f in batch:
                assert any(
                    g.kind == f.kind and abs(pos[g.start_step] - pos[f.start_step]) <= tol
                    for g in noticed
                ), (case.name, f)
                checked += 1
            for g in noticed:
                assert g.noticed_step is not None
                assert g.noticed_step >= g.start_step
    assert checked > 0 or kind is FindingKind.OSCILLATION


def test_nonfinite_is_noticed_at_the_first_bad_point() -> None:
    det = NonFiniteDetector()
    det.start("min", tag="loss")
    got = [det.update(i, v) for i, v in enumerate([1.0, 0.9, float("nan"), 0.8, float("nan")])]
    assert [g is not None for g in got] == [False, False, True, False, False]
    assert got[2] is not None
    assert got[2].start_step == 2
    assert got[2].noticed_step == 2


def test_overfitting_stream_matches_batch() -> None:
    rng = np.random.default_rng(1)
    u = np.arange(400)
    train = np.exp(-2 * np.log1p(u / 20) + rng.normal(0, 0.02, 400))
    val = np.exp(np.where(u < 200, -u / 200, -1 + (u - 200) / 300) + rng.normal(0, 0.01, 400))
    det = OverfittingDetector()
    det.start_pair(
        "min", validation_run="v", validation_tag="val_loss", training_run="t", training_tag="loss"
    )
    noticed = []
    for i in range(400):
        det.update_training(int(u[i]), float(train[i]))
        f = det.update(int(u[i]), float(val[i]))
        if f is not None:
            noticed.append(f)
    noticed += det.flush()
    batch = det.detect_pair(
        Series("v", "val_loss", steps=u, values=val),
        Series("t", "loss", steps=u, values=train),
        "min",
    )
    assert [f.to_dict() for f in det.findings] == [f.to_dict() for f in batch]
    assert len(batch) == 1
    assert noticed
    assert abs(noticed[0].start_step - batch[0].start_step) <= onset_tolerance(400)
    assert noticed[0].noticed_step is not None
    assert noticed[0].noticed_step > 200
