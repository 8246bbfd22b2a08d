"""Events a run's other series show: where its logged learning rate changes regime.

A detector sees one series; the run around it often says *where* something was done
to the training: a step schedule's drop, a raise, a spike, a warm restart, an LR set
to zero. Those are the places where a metric may change regime without a visible jump
(a plateau that starts where the LR was cut), so the detectors cut their phases there
too. Nothing is inferred from a missing LR series: then there are no events.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from tbplateau.series import Series
from tbplateau.stats import regime_changes

__all__ = ["LEARNING_RATE", "is_learning_rate", "schedule_events"]

LEARNING_RATE = re.compile(r"(^|[/_\-. ])(lr|learning[_ -]?rate)\d*($|[/_\-. ])", re.IGNORECASE)
"""Tags that hold a learning rate (``lr``, ``LR/train``, ``epoch_learning_rate``, ``x/lr0``)."""


def is_learning_rate(tag: str) -> bool:
    """Whether ``tag`` names a learning rate.

    >>> tags = ("lr", "LR/train", "epoch_learning_rate", "x/lr0", "clr_loss")
    >>> [is_learning_rate(t) for t in tags]
    [True, True, True, True, False]
    """
    return LEARNING_RATE.search(tag) is not None


def schedule_events(series: Iterable[Series]) -> tuple[int, ...]:
    """Steps where any of the learning-rate ``series`` changes regime, sorted, unique.

    The first step of each new regime (see :func:`~tbplateau.stats.regime_changes`):
    a step change, a restart, a spike and its end, a drop to zero.

    >>> lr = Series("r", "lr", steps=range(0, 60, 2), values=[0.1] * 10 + [0.01] * 20)
    >>> schedule_events([lr])
    (20,)
    """
    out: set[int] = set()
    for s in series:
        if not is_learning_rate(s.tag) or len(s) < 3:
            continue
        ok = np.isfinite(s.values)
        steps = s.steps[ok]
        out.update(int(steps[i]) for i in regime_changes(s.values[ok]).tolist())
    return tuple(sorted(out))
