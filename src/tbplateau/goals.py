"""Which way a metric should go, inferred from its tag name.

``infer_goal`` splits the tag into lower-case words (on ``/``, ``_``, ``-``, ``.``,
spaces and camelCase boundaries) and looks the words up: the *last* word that
names a known quantity decides, so ``val_loss`` and ``Loss/train`` are ``"min"``
and ``eval/accuracy`` is ``"max"``. Words naming things that are not judged as a
metric (learning rate, epoch, step time, throughput, gradient norm,
``hp_metric``, ...) give ``None`` and win over everything else.

Overrides are ``TAG_PATTERN=min|max|none`` strings. A pattern is an
:func:`fnmatch.fnmatchcase` glob matched against the whole tag (case-sensitive),
so ``*loss*=max`` or ``eval/bleu=min``; the first matching override wins.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterable, Sequence

from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Goal

__all__ = ["GoalOverride", "infer_goal", "parse_goal_override", "resolve_goal"]

_MIN_WORDS = frozenset(
    [
        "loss",
        "losses",
        "error",
        "err",
        "errors",
        "mse",
        "mae",
        "rmse",
        "rmsle",
        "mape",
        "smape",
        "nll",
        "perplexity",
        "ppl",
        "cer",
        "wer",
        "ter",
        "xent",
        "crossentropy",
        "cross_entropy",
        "bpd",
        "bpc",
        "kl",
        "kld",
        "divergence",
        "distance",
        "dist",
        "fid",
        "cost",
        "regret",
        "hinge",
        "huber",
        "logloss",
        "brier",
        "ece",
        "l1",
        "l2",
        "sse",
    ]
)
_MAX_WORDS = frozenset(
    [
        "accuracy",
        "acc",
        "top1",
        "top5",
        "top_1",
        "top_5",
        "auc",
        "roc",
        "auroc",
        "auprc",
        "pr_auc",
        "f1",
        "fscore",
        "f1score",
        "f_score",
        "precision",
        "prec",
        "recall",
        "iou",
        "miou",
        "jaccard",
        "dice",
        "map",
        "ap",
        "mAP",
        "ndcg",
        "mrr",
        "bleu",
        "rouge",
        "rouge1",
        "rouge2",
        "rougel",
        "meteor",
        "chrf",
        "bertscore",
        "r2",
        "reward",
        "rewards",
        "return",
        "returns",
        "score",
        "psnr",
        "ssim",
        "spearman",
        "pearson",
        "corr",
        "correlation",
        "kappa",
        "mcc",
        "hit",
        "hits",
        "hitrate",
        "success",
        "win",
        "winrate",
    ]
)
_NULL_WORDS = frozenset(
    [
        "lr",
        "learning_rate",
        "learningrate",
        "epoch",
        "epochs",
        "step",
        "steps",
        "global_step",
        "time",
        "duration",
        "sec",
        "secs",
        "seconds",
        "throughput",
        "samples_per_second",
        "steps_per_second",
        "examples_per_sec",
        "it",
        "its",
        "grad",
        "grad_norm",
        "gradnorm",
        "norm",
        "hp_metric",
        "memory",
        "mem",
        "gpu",
        "cpu",
        "utilization",
        "temperature",
        "momentum",
        "beta",
        "weight_decay",
        "wd",
        "batch",
        "batch_size",
        "tokens",
        "num_tokens",
        "flos",
        "total_flos",
        "scale",
        "loss_scale",
        "clip",
        "lambda",
        "alpha",
        "warmup",
        "entropy",
    ]
)
# Words whose presence anywhere means "not a metric" even next to "loss"
# ("loss_scale", "grad_norm" of the loss).
_NULL_PHRASES = (
    ("learning", "rate"),
    ("grad", "norm"),
    ("gradient", "norm"),
    ("step", "time"),
    ("loss", "scale"),
    ("hp", "metric"),
    ("samples", "per"),
    ("steps", "per"),
    # Reinforcement-learning diagnostics (PPO, ML-Agents, Stable-Baselines3): they
    # describe the optimiser's state, not progress, and legitimately go either way.
    ("policy", "loss"),
    ("value", "loss"),
    ("entropy", "loss"),
    ("gradient", "loss"),
    ("policy", "entropy"),
    ("approx", "kl"),
    ("clip", "fraction"),
    ("explained", "variance"),
)
# Two-word names of metrics to minimise ("cross_entropy" splits into two words).
_MIN_PHRASES = (("cross", "entropy"),)
_SPLIT = re.compile(r"[/_\-.\s:]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def _words(tag: str) -> list[str]:
    return [w.lower() for w in _SPLIT.split(_CAMEL.sub("_", tag)) if w]


def infer_goal(tag: str) -> Goal:
    """``"min"``, ``"max"`` or ``None`` for a tag name.

    >>> infer_goal("epoch_loss"), infer_goal("eval/accuracy"), infer_goal("learning_rate")
    ('min', 'max', None)
    >>> infer_goal("train/grad_norm"), infer_goal("Loss/val"), infer_goal("weird")
    (None, 'min', None)

    Reinforcement-learning diagnostics are not judged; rewards are:

    >>> [infer_goal(t) for t in ("Losses/Policy Loss", "Policy/Entropy", "Entropy")]
    [None, None, None]
    >>> infer_goal("Environment/Cumulative Reward"), infer_goal("train/cross_entropy")
    ('max', 'min')
    """
    words = _words(tag)
    for a, b in _NULL_PHRASES:
        for w1, w2 in itertools.pairwise(words):
            if w1 == a and w2 == b:
                return None
    if any(w in ("lr", "throughput") for w in words):
        return None
    goal: Goal = None
    for i, w in enumerate(words):
        if w in _MIN_WORDS or (i and (words[i - 1], w) in _MIN_PHRASES):
            goal = "min"
        elif w in _MAX_WORDS or w == "map":
            goal = "max"
    if goal is None and words and words[-1] in _NULL_WORDS:
        return None
    return goal


GoalOverride = tuple[str, Goal]


def parse_goal_override(text: str) -> GoalOverride:
    """Parse ``TAG_PATTERN=min|max|none`` (the pattern is an fnmatch glob).

    >>> parse_goal_override("*acc*=max")
    ('*acc*', 'max')
    """
    pattern, sep, goal = text.rpartition("=")
    goal = goal.strip().lower()
    if not sep or not pattern or goal not in ("min", "max", "none", "null"):
        raise InvalidParameterError(
            f"goal override must look like TAG_PATTERN=min|max|none, not {text!r}"
        )
    return (pattern, None if goal in ("none", "null") else goal)  # type: ignore[return-value]


def resolve_goal(tag: str, overrides: Iterable[GoalOverride] | Sequence[str] = ()) -> Goal:
    """The goal of ``tag``: the first matching override, else :func:`infer_goal`.

    >>> resolve_goal("reward_cost", ["reward*=max"])
    'max'
    """
    for item in overrides:
        pattern, goal = parse_goal_override(item) if isinstance(item, str) else item
        if fnmatch.fnmatchcase(tag, pattern):
            return goal
    return infer_goal(tag)
