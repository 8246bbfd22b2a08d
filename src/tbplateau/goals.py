"""What a tag means: its goal, its bounds, its sentinel values, how far it is judged.

This module is the one table of domain knowledge about tags (STYLE: "domain knowledge
is data, not branches"). Nothing else in tbplateau looks at a tag's words.

**Goals.** :func:`infer_goal` splits the tag into lower-case words (on ``/``, ``_``,
``-``, ``.``, ``:``, spaces and camelCase boundaries) and looks the words up: the
*last* word that names a known quantity decides, so ``val_loss`` and ``Loss/train``
are ``"min"`` and ``eval/accuracy`` is ``"max"``. Words naming things that are not a
metric (learning rate, epoch, step time, throughput, gradient norm, ``hp_metric``,
...) give ``None`` and win over everything else.

**Roles.** :data:`TAG_RULES` goes further, by framework: every row is a tag pattern
with a :class:`Role` that says how far a series is judged (:data:`ROLE_KINDS`), a goal
when the words would get it wrong, the bounds of its values, its sentinel values and
why. :func:`tag_meaning` gives the first matching row (or the generic one for the goal
the words give); :func:`judge_plan` is what :func:`~tbplateau.analysis.analyze` asks
for every series: its goal, the kinds of finding to look for and, when that is not
all of them, why.

**Patterns.** ``--runs``, ``--tags`` and the ``TAG_PATTERN`` of ``--goal`` share one
pattern language (:func:`compile_pattern`): a shell glob matched against the whole
name, case-sensitively (``*`` also matches ``/``; ``?`` one character; ``[abc]`` a
set), or, after a ``re:`` prefix, a Python regular expression searched anywhere in
the name. Goal overrides are ``TAG_PATTERN=min|max|none`` strings; the first matching
override wins, and a series whose goal was set this way is judged on every kind.

>>> judge_plan("DetectionBoxes_Precision/mAP (large)", [-1.0, -1.0, -1.0]).kinds
frozenset()
>>> judge_plan("batch_loss", [1.0, 0.5]).note
'batch-level running mean (Keras batch_*): judged only for non-finite values and divergence'
>>> sorted(k.value for k in judge_plan("batch_loss", [1.0], ["batch_*=min"]).kinds)
['divergence', 'nonfinite', 'oscillation', 'overfitting', 'plateau']
"""

from __future__ import annotations

import enum
import fnmatch
import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tbplateau.errors import InvalidParameterError
from tbplateau.findings import FindingKind, Goal

__all__ = [
    "FRAMEWORKS",
    "ROLE_KINDS",
    "TAG_RULES",
    "TWIN_PREFERENCE",
    "GoalOverride",
    "JudgePlan",
    "Role",
    "TagMeaning",
    "TagRule",
    "compile_pattern",
    "detect_framework",
    "infer_goal",
    "judge_plan",
    "parse_goal_override",
    "resolve_goal",
    "tag_meaning",
]

# -- goals from words ----------------------------------------------------------------


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MIN_WORDS = _wordset(
    "loss losses error err errors mse mae rmse rmsle mape smape nll perplexity ppl cer wer "
    "ter xent crossentropy cross_entropy bpd bpc kl kld divergence distance dist fid cost "
    "regret hinge huber logloss brier ece l1 l2 sse miss missrate fpr fnr eer"
)
_MAX_WORDS = _wordset(
    "accuracy acc top1 top5 top_1 top_5 auc roc auroc auprc pr_auc f1 fscore f1score f_score "
    "precision prec recall iou miou jaccard dice map ap ndcg mrr bleu rouge rouge1 rouge2 "
    "rougel meteor chrf bertscore r2 reward rewards rew return returns score psnr ssim "
    "spearman pearson corr correlation kappa mcc hit hits hitrate success win winrate elo "
    "exact"
)
_NULL_WORDS = _wordset(
    "lr learning_rate learningrate epoch epochs step steps global_step time duration sec secs "
    "seconds throughput samples_per_second steps_per_second examples_per_sec it its grad "
    "grad_norm gradnorm norm hp_metric memory mem gpu cpu utilization temperature momentum "
    "beta weight_decay wd batch batch_size tokens num_tokens flos total_flos scale loss_scale "
    "clip lambda alpha warmup entropy"
)
# Word pairs meaning "not a metric" even next to "loss" ("loss_scale", "grad_norm").
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
# Two-word names of metrics to minimise ("cross_entropy" splits into two words; bits or
# nats per dimension, character or byte).
_MIN_PHRASES = (("cross", "entropy"), ("bits", "per"), ("nats", "per"))
_SPLIT = re.compile(r"[/_\-.\s:]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z][a-z])")


def _words(tag: str) -> list[str]:
    return [w.lower() for w in _SPLIT.split(_CAMEL.sub("_", tag)) if w]


def infer_goal(tag: str) -> Goal:
    """``"min"``, ``"max"`` or ``None`` for a tag name, from its words alone.

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
        elif w in _MAX_WORDS:
            goal = "max"
    if goal is None and words and words[-1] in _NULL_WORDS:
        return None
    return goal


# -- the table -------------------------------------------------------------------------


class Role(str, enum.Enum):
    """What a series is, which decides how far it is judged (:data:`ROLE_KINDS`)."""

    METRIC = "metric"
    """Progress to judge: every kind of finding, by its goal."""
    BATCH = "batch"
    """A running mean over the batches of an epoch: noisy by construction and reset
    every epoch, so only non-finite values and divergence mean something."""
    COMPONENT = "component"
    """A term of the loss whose rise is expected (a regularisation or weight-penalty
    loss, a KL term, an entropy bonus): only non-finite values are judged."""
    DIAGNOSTIC = "diagnostic"
    """Optimiser or agent state that may go either way (RL policy and value losses,
    entropy, gradient norm, episode length): only non-finite values are judged."""
    SCHEDULE = "schedule"
    """A hyper-parameter the run sets (learning rate, momentum, epsilon): read by the
    advice, checked only for non-finite values."""
    COUNTER = "counter"
    """Book-keeping (epoch, step, time, throughput, placeholders): checked only for
    non-finite values."""

    def __str__(self) -> str:
        return self.value


_ALL = frozenset(FindingKind)
_NONFINITE = frozenset({FindingKind.NONFINITE})
ROLE_KINDS: dict[Role, frozenset[FindingKind]] = {
    Role.METRIC: _ALL,
    Role.BATCH: frozenset({FindingKind.NONFINITE, FindingKind.DIVERGENCE}),
    Role.COMPONENT: _NONFINITE,
    Role.DIAGNOSTIC: _NONFINITE,
    Role.SCHEDULE: _NONFINITE,
    Role.COUNTER: _NONFINITE,
}
"""The kinds of finding looked for, by role (a metric without a goal: non-finite only)."""


@dataclass(frozen=True)
class TagRule:
    """One row of :data:`TAG_RULES`.

    ``pattern`` is a regular expression searched in the tag (case-insensitive);
    ``frameworks`` limits the row to runs of those frameworks (:func:`detect_framework`;
    empty: any run). ``goal`` is ``"infer"`` to keep the goal the words give.
    ``low``/``high`` bound the values (``scale_100``: a bound of 1 becomes 100 when
    the values run past 1, as percentages do; ``high_if_reached``: the high bound
    holds only when the best value reaches it and nothing exceeds it, as a reward
    normalised to 1 does). ``sentinels`` are values that mean "not applicable",
    ``why`` says what the series is, in the report's words.
    """

    pattern: str
    role: Role
    goal: Goal | str = "infer"
    low: float | None = None
    high: float | None = None
    sentinels: tuple[float, ...] = ()
    why: str = ""
    frameworks: tuple[str, ...] = ()
    scale_100: bool = False
    high_if_reached: bool = False
    chance_loss: bool = False
    """A classification loss: at ``ln C`` it is at chance level for ``C`` classes."""
    without_goal: bool = False
    """The row only labels tags whose words give no goal (``train_loss_epoch`` is a
    loss even though it ends in ``epoch``)."""


_COCO_SENTINEL = "COCO's 'not applicable': no objects of this size in the evaluation set"


def _unit(pattern: str, goal: Goal, **kw: object) -> TagRule:
    """A metric in [0, 1] (or [0, 100] when logged as a percentage)."""
    return TagRule(pattern, Role.METRIC, goal, low=0.0, high=1.0, scale_100=True, **kw)  # type: ignore[arg-type]


# fmt: off
TAG_RULES: tuple[TagRule, ...] = (
    # -- TensorFlow Object Detection API ----------------------------------------------
    _unit(r"^Detection(Boxes|Masks)_(Precision|Recall)/", "max", sentinels=(-1.0,),
          why=_COCO_SENTINEL),
    TagRule(r"(^|/)(regulari[sz]ation|reg|l2_reg|weight_decay|l2|wd)_?loss$", Role.COMPONENT,
            "min", why="a regularisation loss normally grows as the weights grow"),
    TagRule(r"^steps_per_sec$", Role.COUNTER, None, why="throughput"),
    # -- Detectron2 -----------------------------------------------------------------------
    TagRule(r"^(bbox|segm|keypoints)/AP", Role.METRIC, "max", low=0.0, high=100.0,
            sentinels=(-1.0, math.nan),
            why=_COCO_SENTINEL,
            frameworks=("Detectron2",)),
    _unit(r"^(fast_rcnn|mask_rcnn)/(cls_accuracy|fg_cls_accuracy|accuracy)$", "max",
          frameworks=("Detectron2",)),
    TagRule(r"^fast_rcnn/false_negative$", Role.METRIC, "min", low=0.0, high=1.0,
            frameworks=("Detectron2",)),
    TagRule(r"^(roi_head|rpn)/num_", Role.COUNTER, None, why="sample counts",
            frameworks=("Detectron2",)),
    TagRule(r"^(data_time|time|eta_seconds)$", Role.COUNTER, None, why="timing"),
    # -- YOLOv5 / YOLOv8 ---------------------------------------------------------------
    _unit(r"^metrics/(mAP|precision|recall)", "max"),
    TagRule(r"^x/lr\d+$|^lr/pg\d+$", Role.SCHEDULE, None, why="the learning rate"),
    # -- Stable-Baselines3 -----------------------------------------------------------------
    TagRule(r"^(rollout|eval)/(ep_rew_mean|mean_reward)$", Role.METRIC, "max",
            high=1.0, high_if_reached=True, why="mean episode reward"),
    _unit(r"^(rollout|eval)/success_rate$", "max"),
    TagRule(r"^(rollout|eval)/(ep_len_mean|mean_ep_length)$", Role.DIAGNOSTIC, None,
            why="episode length: its direction depends on the task"),
    TagRule(r"^train/learning_rate$", Role.SCHEDULE, None, why="the learning rate",
            frameworks=("Stable-Baselines3",)),
    TagRule(r"^train/(clip_range|ent_coef)$", Role.SCHEDULE, None, why="a schedule",
            frameworks=("Stable-Baselines3",)),
    TagRule(r"^train/", Role.DIAGNOSTIC, None,
            why="an RL optimiser diagnostic",
            frameworks=("Stable-Baselines3",)),
    TagRule(r"^time/", Role.COUNTER, None, why="timing", frameworks=("Stable-Baselines3",)),
    # -- RLlib ---------------------------------------------------------------------------
    TagRule(r"episode_(reward|return)_(mean|max|min)$", Role.METRIC, "max",
            why="episode reward"),
    TagRule(r"episode_len_mean$", Role.DIAGNOSTIC, None,
            why="episode length: its direction depends on the task"),
    TagRule(r"learner_stats/(cur_lr|entropy_coeff|cur_kl_coeff)$", Role.SCHEDULE, None,
            why="a schedule"),
    TagRule(r"learner_stats/", Role.DIAGNOSTIC, None,
            why="an RL optimiser diagnostic"),
    TagRule(r"(^|/)(num_\w+|timesteps_total|timesteps_this_iter|training_iteration|"
            r"time_\w+|\w+_time_ms|\w+_throughput)$", Role.COUNTER, None,
            why="counters and timing", frameworks=("RLlib",)),
    # -- Unity ML-Agents -----------------------------------------------------------------
    TagRule(r"^Environment/Cumulative Reward$|^Policy/Extrinsic Reward$", Role.METRIC, "max",
            high=1.0, high_if_reached=True, why="mean cumulative reward"),
    TagRule(r"^Environment/Episode Length$", Role.DIAGNOSTIC, None,
            why="episode length: its direction depends on the task"),
    TagRule(r"^Environment/Lesson$|^Is Training$", Role.COUNTER, None,
            why="curriculum state"),
    TagRule(r"^Losses/", Role.DIAGNOSTIC, None,
            why="an RL optimiser diagnostic"),
    TagRule(r"^Policy/Learning Rate$", Role.SCHEDULE, None, why="the learning rate"),
    TagRule(r"^Policy/(Epsilon|Beta)$", Role.SCHEDULE, None, why="a schedule"),
    TagRule(r"^Policy/", Role.DIAGNOSTIC, None,
            why="an RL policy diagnostic"),
    TagRule(r"^Self-play/ELO$", Role.METRIC, "max", why="Elo rating"),
    # -- Hugging Face Trainer ------------------------------------------------------------
    TagRule(r"^(train|eval|test)/(epoch|runtime|samples_per_second|steps_per_second|"
            r"total_flos|train_runtime|train_samples_per_second|train_steps_per_second|"
            r"jit_compilation_time|model_preparation_time)$", Role.COUNTER, None,
            why="counters and timing"),
    TagRule(r"^train/train_loss$", Role.COUNTER, None,
            why="the mean training loss of the whole run (one value, logged at the end)"),
    # -- Lightning ------------------------------------------------------------------------
    TagRule(r"^hp_metric$", Role.COUNTER, None, sentinels=(-1.0,),
            why="Lightning's hyper-parameter placeholder"),
    TagRule(r"^lr-", Role.SCHEDULE, None, why="the learning rate (LearningRateMonitor)"),
    # -- Keras ----------------------------------------------------------------------------
    TagRule(r"^batch_", Role.BATCH,
            why="batch-level running mean (Keras batch_*)"),
    TagRule(r"^epoch_(learning_rate|lr)$", Role.SCHEDULE, None, why="the learning rate"),
    # -- generic terms whose rise is expected --------------------------------------------
    TagRule(r"(^|[/ ]|(?<!approx)_)(kl|kld|kl_div|kl_divergence|kl_loss|kl_term)$",
            Role.COMPONENT, "min",
            why="a KL term (it grows as the model starts using its latent code)"),
    TagRule(r"entropy_(bonus|reg)", Role.COMPONENT, None,
            why="an entropy bonus (it moves as the policy sharpens)"),
    # -- generic diagnostics, schedules and counters (for tags the words give no goal) ---
    TagRule(r"(^|[/_ -])(grad(ient)?s?_?norm|param(eter)?_?norm|weight_?norm)($|[/_ -])",
            Role.DIAGNOSTIC, None, why="a gradient or weight norm", without_goal=True),
    TagRule(r"(^|[/_ -])(lr|learning[_ ]?rate)($|[-/]|_?\d+$|_pg\d+$)", Role.SCHEDULE, None,
            why="the learning rate", without_goal=True),
    TagRule(r"(^|[/_ -])(momentum|weight_decay|warmup\w*|temperature|epsilon|beta\d?)"
            r"($|[-/]|_?\d+$)", Role.SCHEDULE, None, why="a schedule", without_goal=True),
    TagRule(r"(^|[/_ -])(epoch|epochs|step|steps|global_step|iteration|time|duration|"
            r"\w*per_sec(ond)?|throughput|memory|mem|gpu\w*|cpu\w*|tokens|num_tokens|"
            r"\w*flos|loss_scale|scale)$", Role.COUNTER, None, why="a counter",
            without_goal=True),
    TagRule(r"(^|[/_ -])(policy|value|entropy|gradient)[_ ]?loss$|approx_?kl|clip_?fraction|"
            r"explained_?variance|(^|/|\s)entropy$", Role.DIAGNOSTIC, None,
            why="an optimiser diagnostic", without_goal=True),
    # -- generic metrics with bounds (the goal from the words) ----------------------------
    # (errors and losses first: "top1_err" is an error, not a top-1 accuracy, and
    # "dice_loss" a loss, not a Dice score)
    TagRule(r"(^|[/_ .-])(loss|xent|cross_?entropy|nll|logloss|ce)($|[/_ .(-])",
            Role.METRIC, "min", low=0.0, chance_loss=True),
    TagRule(r"(^|[/_ .-])(error|err|wer|cer|ter|error_?rate)($|[/_ .-])", Role.METRIC, "min",
            low=0.0),
    _unit(r"(^|[/_ .-])(acc|accuracy|top_?[15](_?acc(uracy)?)?|precision|recall|f1|"
          r"f1_?score|auc|auroc|auprc|iou|miou|dice|jaccard|map(@[\d.]+)?|"
          r"success(_?rate)?|hit_?rate|ap\d*)($|[/_ .(-])", "max"),
)
# fmt: on
"""Tag patterns by framework, most specific first; the first matching row wins."""

FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("Stable-Baselines3", r"^rollout/ep_(rew|len)_mean$|^time/fps$|^train/n_updates$"),
    ("RLlib", r"episode_reward_mean$|/learner_stats/|^ray/tune/"),
    ("ML-Agents", r"^Environment/Cumulative Reward$|^Policy/Extrinsic"),
    ("YOLOv5/YOLOv8", r"^metrics/mAP|^x/lr\d|^lr/pg\d"),
    ("Detectron2", r"^loss_rpn_cls$|^loss_box_reg$|^fast_rcnn/"),
    (
        "TF Object Detection API",
        r"^Loss/(classification|localization)_loss$|^Detection"
        r"(Boxes|Masks)_",
    ),
    ("Hugging Face", r"^(train|eval)/(epoch|runtime|samples_per_second)$|^train/total_flos$"),
    ("Keras", r"^epoch_|^batch_|^evaluation_.+_vs_iterations$"),
    ("Lightning", r"^hp_metric$"),
)
"""Frameworks recognised from the tags of a run (first match wins), for the rows of
:data:`TAG_RULES` that only hold in one framework's runs."""

TWIN_PREFERENCE: tuple[str, ...] = (r"^epoch_", r"^Environment/", r"^rollout/")
"""Of two tags holding the same values, the one matching the earliest pattern here names
the row (Keras' ``epoch_loss`` over ``evaluation_loss_vs_iterations``, ML-Agents'
``Environment/Cumulative Reward`` over ``Policy/Extrinsic Reward``); else the shorter."""

_FRAMEWORK_RES = tuple((name, re.compile(p)) for name, p in FRAMEWORKS)
_RULE_RES = tuple((rule, re.compile(rule.pattern, re.IGNORECASE)) for rule in TAG_RULES)


_PROBE = 4096
"""Longest tag looked at whole; a longer one is judged by its first and last 2,048
characters (a hostile 16 MB name costs no more than a normal one)."""


def _probe(tag: str) -> str:
    half = _PROBE // 2
    return tag if len(tag) <= _PROBE else tag[:half] + "/" + tag[-half:]


def detect_framework(tags: Iterable[str]) -> str | None:
    """The framework that wrote a run with these tags, or ``None``.

    >>> detect_framework(["rollout/ep_rew_mean", "train/loss"])
    'Stable-Baselines3'
    >>> detect_framework(["loss"]) is None
    True
    """
    return _framework_of(tuple(tags))


@functools.lru_cache(maxsize=256)
def _framework_of(tags: tuple[str, ...]) -> str | None:
    """:func:`detect_framework` of a tuple of tags (memoised: the runs of a sweep log the
    same tags, and the report asks again for every run)."""
    probes = [_probe(t) for t in tags]
    for name, pattern in _FRAMEWORK_RES:
        if any(pattern.search(t) for t in probes):
            return name
    return None


@dataclass(frozen=True)
class TagMeaning:
    """What :data:`TAG_RULES` says about one tag (see :class:`TagRule`)."""

    tag: str
    role: Role
    goal: Goal
    low: float | None
    high: float | None
    sentinels: tuple[float, ...]
    why: str
    scale_100: bool = False
    high_if_reached: bool = False
    chance_loss: bool = False

    def bounds(self, values: npt.ArrayLike) -> tuple[float | None, float | None]:
        """``(low, high)`` for these values (a bound of 1 read as 100 for percentages).

        >>> tag_meaning("val_accuracy").bounds([50.0, 97.5])
        (0.0, 100.0)
        >>> tag_meaning("rollout/ep_rew_mean").bounds([0.2, 0.9])
        (None, None)
        """
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        low, high = self.low, self.high
        if v.size == 0:
            return low, high
        top = float(v.max())
        if self.scale_100 and high == 1.0 and top > 1.0:
            high = 100.0 if top <= 100.0 else None
        elif high is not None and top > high * (1 + 1e-6):
            high = None
        if self.high_if_reached and high is not None and top < high - 1e-6 * abs(high):
            high = None
        if low is not None and float(v.min()) < low - 1e-6:
            low = None
        return low, high

    def is_sentinel(self, value: float) -> bool:
        return any(value == s or (math.isnan(s) and math.isnan(value)) for s in self.sentinels)


@functools.lru_cache(maxsize=4096)
def tag_meaning(tag: str, framework: str | None = None) -> TagMeaning:
    """The first row of :data:`TAG_RULES` matching ``tag`` in a run of ``framework``.

    A tag no row matches is a metric when its words give it a goal, else a counter
    (not judged).

    >>> info = tag_meaning("Loss/regularization_loss")
    >>> info.role.value, info.goal
    ('component', 'min')
    >>> tag_meaning("train/loss", "Stable-Baselines3").role.value
    'diagnostic'
    >>> tag_meaning("train/loss").role.value, tag_meaning("x/lr0").role.value
    ('metric', 'schedule')
    """
    probe = _probe(tag)
    words_goal = infer_goal(probe)
    for rule, pattern in _RULE_RES:
        if rule.frameworks and framework not in rule.frameworks:
            continue
        if rule.without_goal and words_goal is not None:
            continue
        if not pattern.search(probe):
            continue
        goal: Goal = words_goal if rule.goal == "infer" else rule.goal  # type: ignore[assignment]
        role = rule.role
        if role is Role.METRIC and goal is None:
            role = Role.COUNTER
        return TagMeaning(
            tag,
            role,
            goal,
            rule.low,
            rule.high,
            rule.sentinels,
            rule.why,
            rule.scale_100,
            rule.high_if_reached,
            rule.chance_loss,
        )
    if words_goal is None:
        return TagMeaning(tag, Role.COUNTER, None, None, None, (), "no goal")
    return TagMeaning(tag, Role.METRIC, words_goal, None, None, (), "")


# -- patterns and goal overrides -------------------------------------------------------


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """A predicate for one pattern of the pattern language (see the module docstring).

    >>> compile_pattern("keras/*")("keras/train"), compile_pattern("loss")("val_loss")
    (True, False)
    >>> compile_pattern("re:^val")("val_loss"), compile_pattern("re:loss")("val_loss")
    (True, True)
    """
    if pattern.startswith("re:"):
        try:
            regex = re.compile(pattern[3:])
        except re.error as exc:
            raise InvalidParameterError(f"bad regular expression {pattern!r}: {exc}") from None
        return lambda name: regex.search(name) is not None
    glob = re.compile(fnmatch.translate(pattern), re.DOTALL)
    return lambda name: glob.match(name) is not None


GoalOverride = tuple[str, Goal]


def parse_goal_override(text: str) -> GoalOverride:
    """Parse ``TAG_PATTERN=min|max|none`` (the pattern in the pattern language).

    >>> parse_goal_override("*acc*=max")
    ('*acc*', 'max')
    """
    pattern, sep, goal = text.rpartition("=")
    goal = goal.strip().lower()
    if not sep or not pattern or goal not in ("min", "max", "none", "null"):
        raise InvalidParameterError(
            f"goal override must look like TAG_PATTERN=min|max|none, not {text!r}"
        )
    compile_pattern(pattern)  # a bad regular expression is an error here
    return (pattern, None if goal in ("none", "null") else goal)  # type: ignore[return-value]


def _override(tag: str, overrides: Iterable[GoalOverride] | Sequence[str]) -> tuple[bool, Goal]:
    for item in overrides:
        pattern, goal = parse_goal_override(item) if isinstance(item, str) else item
        if compile_pattern(pattern)(tag):
            return True, goal
    return False, None


def resolve_goal(tag: str, overrides: Iterable[GoalOverride] | Sequence[str] = ()) -> Goal:
    """The goal of ``tag``: the first matching override, else :func:`tag_meaning`'s.

    >>> resolve_goal("reward_cost", ["reward*=max"])
    'max'
    """
    hit, goal = _override(tag, overrides)
    return goal if hit else tag_meaning(tag).goal


# -- what to judge -----------------------------------------------------------------------


@dataclass(frozen=True)
class JudgePlan:
    """How one series is judged: its ``goal``, the ``kinds`` of finding looked for and,
    when that is not every kind, a ``note`` saying why (shown in the report)."""

    goal: Goal
    kinds: frozenset[FindingKind]
    note: str | None
    role: Role


def _sentinel_only(info: TagMeaning, values: npt.NDArray[np.float64]) -> bool:
    if not info.sentinels or values.size == 0:
        return False
    hit = np.zeros(values.shape, dtype=bool)
    for s in info.sentinels:
        hit |= np.isnan(values) if math.isnan(s) else values == s
    return bool(hit.all())


def _fmt_sentinel(values: npt.NDArray[np.float64]) -> str:
    v = float(values[0])
    return "NaN" if math.isnan(v) else f"{v:g}"


def judge_plan(
    tag: str,
    values: npt.ArrayLike,
    overrides: Iterable[GoalOverride] | Sequence[str] = (),
    *,
    framework: str | None = None,
) -> JudgePlan:
    """What :func:`~tbplateau.analysis.analyze` looks for in one series.

    An override (``--goal``) sets the goal and asks for every kind (``none``: not
    judged). Otherwise the tag's row decides (:data:`ROLE_KINDS`); a series holding
    only sentinel values is not judged at all.

    >>> judge_plan("Loss/regularization_loss", [0.15, 0.17]).note
    'a regularisation loss normally grows as the weights grow: judged only for non-finite values'
    >>> judge_plan("learning_rate", [0.1]).note
    'not a metric (the learning rate)'
    """
    hit, goal = _override(tag, overrides)
    if hit:
        if goal is None:
            return JudgePlan(None, _NONFINITE, "not a metric (--goal none)", Role.COUNTER)
        return JudgePlan(goal, _ALL, None, Role.METRIC)
    info = tag_meaning(tag, framework)
    v = np.asarray(values, dtype=np.float64)
    if _sentinel_only(info, v):
        note = f"always {_fmt_sentinel(v)}, {info.why}"
        return JudgePlan(info.goal, frozenset(), note, info.role)
    kinds = ROLE_KINDS[info.role]
    if info.role is Role.METRIC:
        return JudgePlan(info.goal, kinds, None, info.role)
    if info.role is Role.BATCH:
        return JudgePlan(
            info.goal,
            kinds,
            f"{info.why}: judged only for non-finite values and divergence",
            info.role,
        )
    if info.role is Role.COMPONENT:
        return JudgePlan(
            info.goal, kinds, f"{info.why}: judged only for non-finite values", info.role
        )
    return JudgePlan(None, kinds, f"not a metric ({info.why})", info.role)
