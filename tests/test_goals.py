from __future__ import annotations

import pytest

from tbplateau.errors import InvalidParameterError
from tbplateau.goals import infer_goal, parse_goal_override, resolve_goal


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
