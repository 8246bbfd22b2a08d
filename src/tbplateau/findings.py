"""Findings: what a detector says about a series (or a pair of series).

A :class:`Finding` is a frozen value; :meth:`Finding.to_dict` gives the ``FINDING``
object of the ``tbplateau.report/1`` document, where every non-finite float
becomes ``None`` (JSON ``null``).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from tbplateau.errors import InvalidParameterError

__all__ = ["Finding", "FindingKind", "Goal", "check_goal", "finding_label", "json_safe"]

Goal = Literal["min", "max"] | None
"""Direction of a metric: ``"min"`` (loss), ``"max"`` (accuracy) or ``None`` (not a metric)."""


def check_goal(goal: object) -> Goal:
    """Return ``goal`` if it is ``"min"``, ``"max"`` or ``None``; raise otherwise."""
    if goal is None or goal == "min" or goal == "max":
        return goal
    raise InvalidParameterError(f"goal must be 'min', 'max' or None, not {goal!r}")


class FindingKind(str, enum.Enum):
    """The kinds of finding (a ``str`` enum, so JSON holds plain strings)."""

    PLATEAU = "plateau"
    DIVERGENCE = "divergence"
    NONFINITE = "nonfinite"
    OVERFITTING = "overfitting"
    OSCILLATION = "oscillation"

    def __str__(self) -> str:
        return self.value


def json_safe(value: Any) -> Any:
    """``value`` with non-finite floats as ``None``, tuples as lists and numpy scalars as Python.

    >>> json_safe({"a": float("nan"), "b": (1, float("inf")), "c": 2.5})
    {'a': None, 'b': [1, None], 'c': 2.5}
    """
    # the plain types first, by their exact type (what the checks below make of them)
    kind = type(value)
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(k): json_safe(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return json_safe(item())
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} as JSON")


@dataclass(frozen=True)
class Finding:
    """One finding.

    ``start_step`` is the onset; ``end_step`` the last step it covers, or ``None`` when
    it lasts to the end of the series. ``tags`` names the series involved (one tag, or
    ``(validation tag, training tag)`` for overfitting). ``confidence`` is in [0, 1].
    ``noticed_step`` is the step at which a streaming detector reported it (``None``
    for batch detection); ``run`` is the run it was found in, set by the report that
    holds it (``None`` for a finding of a detector called directly). Neither is part
    of the JSON finding object (its run is the run object around it), nor of equality.

    >>> f = Finding(FindingKind.PLATEAU, 10, None, ("loss",), 0.9, {"constant": True})
    >>> f.to_dict()["kind"], f.to_dict()["end_step"]
    ('plateau', None)
    >>> f
    Finding(plateau of 'loss' from step 10 to the end, confidence 0.90)
    """

    kind: FindingKind
    start_step: int
    end_step: int | None
    tags: tuple[str, ...]
    confidence: float
    detail: Mapping[str, Any] = field(default_factory=dict)
    noticed_step: int | None = None
    run: str | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        where = "" if self.run is None else f" in run {self.run!r}"
        what = " vs ".join(repr(t) for t in self.tags[:2])
        end = "the end" if self.end_step is None else f"step {self.end_step}"
        return (
            f"Finding({self.kind.value} of {what}{where} from step {self.start_step} "
            f"to {end}, confidence {self.confidence:.2f})"
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FindingKind(self.kind))
        object.__setattr__(self, "start_step", int(self.start_step))
        if self.end_step is not None:
            object.__setattr__(self, "end_step", int(self.end_step))
        object.__setattr__(self, "tags", tuple(self.tags))
        c = float(self.confidence)
        if not 0.0 <= c <= 1.0:  # also rejects NaN
            raise InvalidParameterError(f"confidence must be in [0, 1], not {c!r}")
        object.__setattr__(self, "confidence", c)
        object.__setattr__(self, "detail", MappingProxyType(dict(self.detail)))

    @property
    def sort_key(self) -> tuple[int, str, tuple[str, ...]]:
        return (self.start_step, self.kind.value, self.tags)

    def to_dict(self) -> dict[str, Any]:
        """The ``FINDING`` JSON object (non-finite floats as ``None``)."""
        return {
            "kind": self.kind.value,
            "start_step": self.start_step,
            "end_step": self.end_step,
            "tags": list(self.tags),
            "confidence": round(self.confidence, 4),
            "detail": json_safe(dict(self.detail)),
        }


def finding_label(f: Finding) -> str:
    """``"flat line"`` for a constant plateau, else the kind's name."""
    if f.kind is FindingKind.PLATEAU and f.detail.get("constant"):
        return "flat line"
    return "non-finite" if f.kind is FindingKind.NONFINITE else f.kind.value
