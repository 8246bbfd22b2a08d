"""Pair each validation series with the training series it should be compared with.

Every common layout is recognised:

====================  ==============================  ==========================
layout                training                        validation
====================  ==============================  ==========================
Keras sibling runs    run ``X/train``, tag ``T``      run ``X/validation``, tag ``T``
Hugging Face          tag ``train/loss``              tag ``eval/loss``
Keras history         tag ``loss``                    tag ``val_loss``
PyTorch examples      tag ``Loss/train``              tag ``Loss/val``
tensorboardX          run ``X/Loss_train``, tag       run ``X/Loss_val``, tag
``add_scalars``       ``Loss``                        ``Loss``
Lightning             tag ``train_loss_epoch``        tag ``val_loss``
====================  ==============================  ==========================

A *role word* marks a side: training is ``train``, ``training``, ``trn``;
validation is ``val``, ``valid``, ``validation``, ``eval``, ``evaluation``,
``dev``, ``test``, ``testing`` (matched case-insensitively as whole words, words
being split on ``/ _ - .`` and spaces). Removing the role word leaves a *key*; a
validation series is paired with the training series of the same key, or, when no
series is marked as training, with the unmarked series of that key in the same run
(``loss`` for ``val_loss``). ``acc`` and ``accuracy`` are the same word in keys, and a
last word ``epoch`` or ``step`` is dropped from them (how Lightning aggregated the
value). Of several candidates the first by run and tag name is taken, which puts
``train_loss_epoch`` before ``train_loss_step``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["TRAIN_WORDS", "VALIDATION_WORDS", "Pair", "RunTags", "pair_series", "run_groups"]

TRAIN_WORDS = frozenset({"train", "training", "trn"})
VALIDATION_WORDS = frozenset(
    {"val", "valid", "validation", "eval", "evaluation", "dev", "test", "testing"}
)
_SYNONYMS = {"acc": "accuracy", "err": "error"}
_SEP = re.compile(r"([/_\-.\s]+)")

Role = Literal["train", "validation"] | None


class RunTags(Protocol):
    """Anything with a run ``name`` and its scalar ``tags`` (a reader ``Run`` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Pair:
    """A validation series and the training series it is judged against."""

    validation_run: str
    validation_tag: str
    training_run: str
    training_tag: str
    layout: str


def _role(word: str) -> Role:
    w = word.lower()
    if w in TRAIN_WORDS:
        return "train"
    if w in VALIDATION_WORDS:
        return "validation"
    return None


_AGGREGATES = frozenset({"epoch", "step"})
"""Last words naming how a value was aggregated, not what it is: Lightning logs
``train_loss_step`` and ``train_loss_epoch`` for ``self.log("train_loss", ...)`` with
both ``on_step`` and ``on_epoch``, beside a plain ``val_loss``."""


def _norm(text: str) -> str:
    words = [w.lower() for w in _SEP.split(text) if w and not _SEP.fullmatch(w)]
    if len(words) > 1 and words[-1] in _AGGREGATES:
        words = words[:-1]
    return "/".join(_SYNONYMS.get(w, w) for w in words)


def _split_run(run: str) -> tuple[str, str]:
    parent, _, last = run.rpartition("/")
    return (parent or ".", last) if run != "." else (".", ".")


def _classify(run: str, tag: str) -> tuple[Role, tuple[str, ...], str]:
    """The role of one series, its pairing key and the layout that gave them."""
    parent, last = _split_run(run)
    role = _role(last)
    if role is not None:
        return role, ("runs", parent, tag), "sibling runs"
    if last.startswith(tag + "_"):
        role = _role(last[len(tag) + 1 :])
        if role is not None:
            return role, ("runs", parent, tag), "add_scalars runs"
    role, key = _tag_words(tag)
    return role, ("tags", run, key), "tag words"


@functools.lru_cache(maxsize=4096)
def _tag_words(tag: str) -> tuple[Role, str]:
    """The role a tag's own words give it and the key left without that word (a pure
    function of the tag, memoised: every run of a sweep logs the same few tags)."""
    parts = _SEP.split(tag)
    marked = [i for i, w in enumerate(parts) if not _SEP.fullmatch(w or "_") and _role(w)]
    if len(marked) == 1:
        i = marked[0]
        rest = parts[:i] + parts[i + 1 :]
        return _role(parts[i]), _norm("".join(rest))
    return None, _norm(tag)


def pair_series(runs: Iterable[RunTags | tuple[str, Sequence[str]]]) -> list[Pair]:
    """Every (validation, training) pair among the runs' scalar tags, sorted.

    >>> pair_series([("train", ["epoch_loss"]), ("validation", ["epoch_loss"])])[0].layout
    'sibling runs'
    >>> pairs = pair_series([(".", ["loss", "val_loss", "lr"])])
    >>> [(p.validation_tag, p.training_tag) for p in pairs]
    [('val_loss', 'loss')]
    """
    trains: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    plain: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    vals: list[tuple[tuple[str, ...], str, str, str]] = []
    for item in runs:
        name, tags = item if isinstance(item, tuple) else (item.name, item.tags)
        for tag in tags:
            role, key, layout = _classify(name, tag)
            if role == "train":
                trains.setdefault(key, []).append((name, tag))
            elif role == "validation":
                vals.append((key, name, tag, layout))
            else:
                plain.setdefault(key, []).append((name, tag))
    out = []
    for key, name, tag, layout in vals:
        candidates = sorted(trains.get(key, [])) or sorted(plain.get(key, []))
        if candidates:
            trun, ttag = candidates[0]
            out.append(Pair(name, tag, trun, ttag, layout))
    return sorted(out, key=lambda p: (p.validation_run, p.validation_tag))


def _group_key(run: str) -> str:
    """The group a run belongs to: its parent when its last name part is a role word."""
    parent, last = _split_run(run)
    words = [w for w in _SEP.split(last) if w and not _SEP.fullmatch(w)]
    if words and _role(words[-1]) is not None:
        return "\0" + parent  # cannot collide with a run name
    return run


def run_groups(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Partition run names into the groups that :func:`pair_series` may join.

    Two runs are paired only when both end in a role word under the same parent
    (Keras ``X/train`` and ``X/validation``; ``add_scalars`` ``X/Loss_train`` and
    ``X/Loss_val``), so those travel together and every other run is a group of its
    own. Analysing each group apart gives exactly the analysis of the whole logdir;
    that is what lets sweeps, ``watch`` and the TensorBoard tab analyse only part of
    it. Groups are sorted by their first run, runs within a group by name.

    >>> run_groups(["b", "x/train", "a", "x/validation", "y/Loss_train"])
    [('a',), ('b',), ('x/train', 'x/validation'), ('y/Loss_train',)]
    """
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(_group_key(name), []).append(name)
    return sorted((tuple(sorted(g)) for g in groups.values()), key=lambda g: g[0])
