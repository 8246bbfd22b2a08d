"""The evaluation set: real labelled runs (``evalset/real``), the legacy fixtures and the
synthetic families, with their ``dev`` / ``test`` split.

Split rule (deterministic, by seed): a case whose seed is odd is ``test``, even ``dev``
(:func:`tbplateau.evaluation.families.split_of`); the real runs store their seed and split
in ``labels.json``, and loading checks that the two agree. The legacy ``fixtures/*`` logdirs
(the set the detectors were tuned on) are ``dev`` only.

tbplateau is scored through its public JSON document (:func:`findings_from_document`), as an
outside user would read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tbplateau.errors import TbplateauError
from tbplateau.evaluation.families import split_of, synthetic_cases
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import Finding, FindingKind

__all__ = [
    "EVALSET_ROOT",
    "FIXTURES_ROOT",
    "POOL",
    "POOL_FROM",
    "TWINS_FROM",
    "evaluation_cases",
    "findings_from_document",
    "load_real_cases",
]

_REPO = Path(__file__).resolve().parents[3]
EVALSET_ROOT = _REPO / "evalset" / "real"
FIXTURES_ROOT = _REPO / "fixtures"
TWINS_FROM = 100
"""Real runs with a seed below this are the first set; from it on, twin seeds ``2k``, ``2k + 1``
share their conditions (``train_reference.evalset.scenarios.TWINS_FROM``, which must agree)."""

POOL_FROM = 600
"""Real runs with a seed from this on belong to the tuning pool, split :data:`POOL`: neither
``dev`` nor ``test``, made on demand and never committed
(``train_reference.evalset.scenarios.POOL_FROM``, which must agree)."""

POOL = "pool"


def _complete(doc: Mapping[str, Any]) -> dict[tuple[str, str], frozenset[FindingKind]]:
    out: dict[tuple[str, str], frozenset[FindingKind]] = {}
    for entry in doc.get("complete", []):
        for tag in entry["tags"]:
            out[(entry["run"], tag)] = frozenset(FindingKind(k) for k in entry["kinds"])
    return out


def load_real_cases(root: str | Path = EVALSET_ROOT, *, source: str = "real") -> list[Case]:
    """Cases from ``root/<name>/labels.json`` folders (the real runs, or legacy fixtures).

    A ``labels.json`` with a ``seed`` gives its split by :func:`split_of`, or :data:`POOL` from
    :data:`POOL_FROM` on (and must say the same); one without (the legacy fixtures) is ``dev``
    and fully labelled.
    """
    from tbplateau.reader import read_logdir

    root = Path(root)
    if not root.is_dir():
        return []
    cases = []
    for folder in sorted(p for p in root.iterdir() if (p / "labels.json").is_file()):
        raw = json.loads((folder / "labels.json").read_text())
        items = raw["labels"] if isinstance(raw, dict) else raw
        labels = tuple(Label.from_dict(d) for d in items)
        seed = raw.get("seed") if isinstance(raw, dict) else None
        split = "dev"
        complete = None
        if seed is not None:
            split = POOL if int(seed) >= POOL_FROM else split_of(int(seed))
            if raw.get("split", split) != split:
                raise TbplateauError(f"{folder}/labels.json: split {raw['split']!r} != {split!r}")
            complete = _complete(raw)
        family = raw.get("scenario", folder.name) if isinstance(raw, dict) else folder.name
        cases.append(
            Case(
                folder.name,
                read_logdir(folder),
                labels,
                str(family),
                split=split,
                source=source,
                seed=int(seed or 0),
                complete=complete,
            )
        )
    return cases


def evaluation_cases(
    split: str = "both",
    *,
    real_root: str | Path = EVALSET_ROOT,
    fixtures_root: str | Path | None = FIXTURES_ROOT,
    synthetic_scale: float = 1.0,
    open_cases: bool = False,
) -> list[Case]:
    """Every case of ``split`` (``"dev"``, ``"test"`` or ``"both"``); open cases on request."""
    cases = synthetic_cases(scale=synthetic_scale)
    cases += load_real_cases(real_root)
    if fixtures_root is not None:
        cases += load_real_cases(fixtures_root, source="fixture")
    if open_cases:
        cases += synthetic_cases(open_cases=True, scale=synthetic_scale)
    return [c for c in cases if split == "both" or c.split == split]


def findings_from_document(doc: Mapping[str, Any]) -> Iterator[tuple[str, Finding]]:
    """``(run, finding)`` for every finding of a ``tbplateau.report/1`` document."""
    for run in doc["runs"]:
        lists: list[Sequence[Mapping[str, Any]]] = [s["findings"] for s in run["series"]]
        lists.append(run["findings"])
        for found in lists:
            for f in found:
                yield (
                    str(run["run"]),
                    Finding(
                        FindingKind(f["kind"]),
                        int(f["start_step"]),
                        None if f["end_step"] is None else int(f["end_step"]),
                        tuple(f["tags"]),
                        float(f["confidence"]),
                        f.get("detail") or {},
                    ),
                )
