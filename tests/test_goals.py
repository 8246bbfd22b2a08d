from __future__ import annotations

import pytest

from tbplateau import goals
from tbplateau.errors import InvalidParameterError
from tbplateau.findings import FindingKind
from tbplateau.goals import (
    ROLE_KINDS,
    TAG_RULES,
    Role,
    compile_pattern,
    detect_framework,
    infer_goal,
    judge_plan,
    parse_goal_override,
    resolve_goal,
    tag_meaning,
)


@pytest.mark.parametrize(
    ("tag", "goal"),
    [
        ("loss", "min"),
        ("epoch_loss", "min"),
        ("val_loss", "min"),
        ("train/loss", "min"),
        ("Loss/val", "min"),
        ("eval/perplexity", "min"),
        ("mse", "min"),
        ("val_mae", "min"),
        ("top1_error", "min"),
        ("wer", "min"),
        ("valLoss", "min"),
        ("accuracy", "max"),
        ("epoch_accuracy", "max"),
        ("val_acc", "max"),
        ("eval/f1", "max"),
        ("auc", "max"),
        ("precision", "max"),
        ("recall", "max"),
        ("mIoU", "max"),
        ("eval/bleu", "max"),
        ("episode_reward", "max"),
        ("mAP", "max"),
        ("learning_rate", None),
        ("lr", None),
        ("lr-Adam", None),
        ("epoch", None),
        ("train/epoch", None),
        ("step_time", None),
        ("throughput", None),
        ("grad_norm", None),
        ("train/grad_norm", None),
        ("hp_metric", None),
        ("eval/samples_per_second", None),
        ("loss_scale", None),
        ("something", None),
    ],
)
def test_infer_goal(tag: str, goal: str | None) -> None:
    assert infer_goal(tag) == goal


def test_overrides_are_fnmatch_globs_first_match_wins() -> None:
    assert resolve_goal("custom/score", ["custom/*=min"]) == "min"
    assert resolve_goal("loss", ["*=max", "loss=min"]) == "max"
    assert resolve_goal("loss", ["acc*=max"]) == "min"
    assert resolve_goal("loss", [("loss", None)]) is None
    assert parse_goal_override("a=b=none") == ("a=b", None)


@pytest.mark.parametrize("bad", ["loss", "=min", "loss=up", "loss="])
def test_bad_override_names_the_text(bad: str) -> None:
    with pytest.raises(InvalidParameterError, match="TAG_PATTERN"):
        parse_goal_override(bad)


# -- the table of tag meanings ----------------------------------------------------------

ALL = frozenset(FindingKind)


@pytest.mark.parametrize(
    ("framework", "tag", "role", "goal"),
    [
        # Stable-Baselines3
        ("Stable-Baselines3", "rollout/ep_rew_mean", Role.METRIC, "max"),
        ("Stable-Baselines3", "eval/mean_reward", Role.METRIC, "max"),
        ("Stable-Baselines3", "rollout/success_rate", Role.METRIC, "max"),
        ("Stable-Baselines3", "rollout/ep_len_mean", Role.DIAGNOSTIC, None),
        ("Stable-Baselines3", "train/loss", Role.DIAGNOSTIC, None),
        ("Stable-Baselines3", "train/entropy_loss", Role.DIAGNOSTIC, None),
        ("Stable-Baselines3", "train/approx_kl", Role.DIAGNOSTIC, None),
        ("Stable-Baselines3", "train/learning_rate", Role.SCHEDULE, None),
        ("Stable-Baselines3", "time/fps", Role.COUNTER, None),
        # RLlib
        ("RLlib", "ray/tune/episode_reward_mean", Role.METRIC, "max"),
        ("RLlib", "ray/tune/episode_len_mean", Role.DIAGNOSTIC, None),
        (
            "RLlib",
            "ray/tune/info/learner/default_policy/learner_stats/vf_loss",
            Role.DIAGNOSTIC,
            None,
        ),
        ("RLlib", "ray/tune/info/learner/default_policy/learner_stats/cur_lr", Role.SCHEDULE, None),
        ("RLlib", "ray/tune/timesteps_total", Role.COUNTER, None),
        # ML-Agents
        ("ML-Agents", "Environment/Cumulative Reward", Role.METRIC, "max"),
        ("ML-Agents", "Environment/Episode Length", Role.DIAGNOSTIC, None),
        ("ML-Agents", "Losses/Value Loss", Role.DIAGNOSTIC, None),
        ("ML-Agents", "Policy/Learning Rate", Role.SCHEDULE, None),
        ("ML-Agents", "Self-play/ELO", Role.METRIC, "max"),
        # YOLOv5 / YOLOv8
        ("YOLOv5/YOLOv8", "metrics/mAP_0.5:0.95", Role.METRIC, "max"),
        ("YOLOv5/YOLOv8", "metrics/mAP50-95(B)", Role.METRIC, "max"),
        ("YOLOv5/YOLOv8", "metrics/recall", Role.METRIC, "max"),
        ("YOLOv5/YOLOv8", "val/box_loss", Role.METRIC, "min"),
        ("YOLOv5/YOLOv8", "train/dfl_loss", Role.METRIC, "min"),
        ("YOLOv5/YOLOv8", "x/lr0", Role.SCHEDULE, None),
        ("YOLOv5/YOLOv8", "lr/pg1", Role.SCHEDULE, None),
        # Detectron2
        ("Detectron2", "bbox/AP50", Role.METRIC, "max"),
        ("Detectron2", "loss_box_reg", Role.METRIC, "min"),
        ("Detectron2", "fast_rcnn/cls_accuracy", Role.METRIC, "max"),
        ("Detectron2", "fast_rcnn/false_negative", Role.METRIC, "min"),
        ("Detectron2", "roi_head/num_fg_samples", Role.COUNTER, None),
        ("Detectron2", "data_time", Role.COUNTER, None),
        # TF Object Detection API
        ("TF Object Detection API", "DetectionBoxes_Precision/mAP (large)", Role.METRIC, "max"),
        ("TF Object Detection API", "Loss/regularization_loss", Role.COMPONENT, "min"),
        ("TF Object Detection API", "Loss/total_loss", Role.METRIC, "min"),
        ("TF Object Detection API", "steps_per_sec", Role.COUNTER, None),
        # Hugging Face
        ("Hugging Face", "eval/loss", Role.METRIC, "min"),
        ("Hugging Face", "train/grad_norm", Role.DIAGNOSTIC, None),
        ("Hugging Face", "train/epoch", Role.COUNTER, None),
        ("Hugging Face", "eval/samples_per_second", Role.COUNTER, None),
        ("Hugging Face", "train/train_loss", Role.COUNTER, None),
        # Lightning
        ("Lightning", "train_loss_epoch", Role.METRIC, "min"),
        ("Lightning", "train_loss_step", Role.METRIC, "min"),
        ("Lightning", "hp_metric", Role.COUNTER, None),
        ("Lightning", "lr-Adam", Role.SCHEDULE, None),
        ("Lightning", "epoch", Role.COUNTER, None),
        # Keras and generic terms
        ("Keras", "batch_loss", Role.BATCH, "min"),
        ("Keras", "epoch_learning_rate", Role.SCHEDULE, None),
        (None, "vae/kl_loss", Role.COMPONENT, "min"),
        (None, "train/cross_entropy", Role.METRIC, "min"),
        (None, "approx_kl", Role.DIAGNOSTIC, None),
        (None, "metrics/perplexity_per_step", Role.METRIC, "min"),
        # error rates of a top-k accuracy are errors (pycls, timm), and other metrics whose
        # words name the goal
        (None, "top1_err", Role.METRIC, "min"),
        (None, "val/top5_error", Role.METRIC, "min"),
        (None, "error/top1", Role.METRIC, "min"),
        (None, "val/miss_rate", Role.METRIC, "min"),
        (None, "eval/exact_match", Role.METRIC, "max"),
        (None, "test/bits_per_dim", Role.METRIC, "min"),
        (None, "val/top1", Role.METRIC, "max"),
        # a loss named after the score it optimises is a loss
        (None, "dice_loss", Role.METRIC, "min"),
        (None, "val/iou_loss", Role.METRIC, "min"),
        # a rate per byte or dimension is a metric only when it counts bits or nats
        (None, "tokens_per_byte", Role.COUNTER, None),
    ],
)
def test_framework_tags(framework: str | None, tag: str, role: Role, goal: str | None) -> None:
    meaning = tag_meaning(tag, framework)
    assert (meaning.role, meaning.goal) == (role, goal)


@pytest.mark.parametrize(
    ("tags", "framework"),
    [
        (["rollout/ep_rew_mean", "train/loss"], "Stable-Baselines3"),
        (["Environment/Cumulative Reward"], "ML-Agents"),
        (["metrics/mAP_0.5", "x/lr0"], "YOLOv5/YOLOv8"),
        (["loss_rpn_cls", "bbox/AP"], "Detectron2"),
        (["Loss/classification_loss"], "TF Object Detection API"),
        (["train/loss", "train/epoch", "eval/runtime"], "Hugging Face"),
        (["epoch_loss", "evaluation_loss_vs_iterations"], "Keras"),
        (["train_loss", "hp_metric", "epoch"], "Lightning"),
        (["ray/tune/episode_reward_mean"], "RLlib"),
        (["loss", "accuracy"], None),
    ],
)
def test_frameworks_are_recognised_from_their_tags(tags: list[str], framework: str | None) -> None:
    assert detect_framework(tags) == framework


def test_every_rule_is_a_valid_row() -> None:
    for rule in TAG_RULES:
        assert rule.role in ROLE_KINDS
        assert rule.goal in ("infer", "min", "max", None)
        assert rule.role is not Role.METRIC or rule.goal is not None or rule.goal == "infer"


@pytest.mark.parametrize(
    ("tag", "values", "kinds", "note"),
    [
        ("DetectionBoxes_Precision/mAP (large)", [-1.0] * 5, frozenset(), "always -1, COCO's"),
        ("DetectionBoxes_Precision/mAP (large)", [-1.0, 0.2, 0.3], ALL, None),
        ("Loss/regularization_loss", [0.15, 0.16, 0.18], {FindingKind.NONFINITE}, "grows"),
        ("batch_loss", [1.0, 0.9], {FindingKind.NONFINITE, FindingKind.DIVERGENCE}, "batch"),
        ("vae/kl", [0.0, 1.0], {FindingKind.NONFINITE}, "KL term"),
        ("learning_rate", [0.1, 0.01], {FindingKind.NONFINITE}, "learning rate"),
        ("hp_metric", [-1.0], frozenset(), "placeholder"),
        ("val_loss", [1.0, 0.5], ALL, None),
    ],
)
def test_judge_plan(
    tag: str, values: list[float], kinds: frozenset[FindingKind], note: str | None
) -> None:
    plan = judge_plan(tag, values)
    assert plan.kinds == kinds
    assert (plan.note is None) == (note is None)
    if note is not None:
        assert plan.note is not None
        assert note in plan.note


def test_an_explicit_goal_judges_every_kind() -> None:
    assert judge_plan("batch_loss", [1.0], ["batch_*=min"]).kinds == ALL
    assert judge_plan("Loss/regularization_loss", [1.0], ["re:regular=min"]).kinds == ALL
    plan = judge_plan("val_loss", [1.0], ["val_loss=none"])
    assert plan.goal is None
    assert plan.kinds == {FindingKind.NONFINITE}


def test_bounds_follow_the_values() -> None:
    acc = tag_meaning("val_accuracy")
    assert acc.bounds([0.2, 0.9]) == (0.0, 1.0)
    assert acc.bounds([20.0, 97.0]) == (0.0, 100.0)
    assert acc.bounds([-0.5, 0.9])[0] is None  # not an accuracy after all
    reward = tag_meaning("Environment/Cumulative Reward")
    assert reward.bounds([0.1, 1.0]) == (None, 1.0)  # a reward normalised to 1, reached
    assert reward.bounds([0.1, 0.9]) == (None, None)
    assert reward.bounds([3.0, 20.0]) == (None, None)


def test_pattern_language() -> None:
    assert compile_pattern("*")("a/b")
    assert compile_pattern("keras/*")("keras/train/x")
    assert not compile_pattern("loss")("val_loss")
    assert compile_pattern("*loss")("val_loss")
    assert compile_pattern("re:loss$")("val_loss")
    assert not compile_pattern("re:^loss")("val_loss")
    assert compile_pattern("Loss/[tv]*")("Loss/val")
    with pytest.raises(InvalidParameterError, match="bad regular expression"):
        compile_pattern("re:(")


def test_frameworks_are_memoised_by_the_tags() -> None:
    tags = ["rollout/ep_rew_mean", "train/loss"]
    assert detect_framework(iter(tags)) == detect_framework(tags) == "Stable-Baselines3"
    assert goals._framework_of(tuple(tags)) == goals._framework_of.__wrapped__(tuple(tags))
    assert detect_framework(t for t in ["loss", "val_loss"]) is None
    assert detect_framework([]) is None
