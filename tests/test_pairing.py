from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbplateau import pairing
from tbplateau.pairing import pair_series, run_groups
from tbplateau.reader.model import Run


def _pairs(runs: list[tuple[str, list[str]]]) -> list[tuple[str, str, str, str]]:
    return [
        (p.validation_run, p.validation_tag, p.training_run, p.training_tag)
        for p in pair_series(runs)
    ]


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        pytest.param(
            [
                ("train", ["epoch_loss", "epoch_accuracy"]),
                ("validation", ["epoch_loss", "epoch_accuracy"]),
            ],
            [
                ("validation", "epoch_accuracy", "train", "epoch_accuracy"),
                ("validation", "epoch_loss", "train", "epoch_loss"),
            ],
            id="keras sibling runs",
        ),
        pytest.param(
            [
                ("logs/fit/2024/train", ["epoch_loss"]),
                ("logs/fit/2024/validation", ["epoch_loss"]),
                ("logs/fit/2023/train", ["epoch_loss"]),
            ],
            [("logs/fit/2024/validation", "epoch_loss", "logs/fit/2024/train", "epoch_loss")],
            id="keras nested, parent must match",
        ),
        pytest.param(
            [(".", ["train/loss", "eval/loss", "train/learning_rate", "eval/runtime"])],
            [(".", "eval/loss", ".", "train/loss")],
            id="hugging face",
        ),
        pytest.param(
            [(".", ["loss", "val_loss", "accuracy", "val_accuracy", "lr"])],
            [(".", "val_accuracy", ".", "accuracy"), (".", "val_loss", ".", "loss")],
            id="keras history names",
        ),
        pytest.param(
            [
                (
                    "lightning_logs/version_0",
                    ["train_loss_step", "train_loss_epoch", "val_loss", "epoch"],
                )
            ],
            [
                (
                    "lightning_logs/version_0",
                    "val_loss",
                    "lightning_logs/version_0",
                    "train_loss_epoch",
                )
            ],
            id="lightning on_step and on_epoch: the epoch aggregate",
        ),
        pytest.param(
            [(".", ["train/loss_step", "val/loss"])],
            [(".", "val/loss", ".", "train/loss_step")],
            id="lightning on_step only",
        ),
        pytest.param(
            [("runs/a", ["Loss/train", "Loss/val", "Accuracy/train", "Accuracy/test"])],
            [
                ("runs/a", "Accuracy/test", "runs/a", "Accuracy/train"),
                ("runs/a", "Loss/val", "runs/a", "Loss/train"),
            ],
            id="pytorch tag suffix",
        ),
        pytest.param(
            [("runs/x", []), ("runs/x/Loss_train", ["Loss"]), ("runs/x/Loss_val", ["Loss"])],
            [("runs/x/Loss_val", "Loss", "runs/x/Loss_train", "Loss")],
            id="tensorboardX add_scalars",
        ),
        pytest.param(
            [(".", ["train_loss", "valid_loss"])],
            [(".", "valid_loss", ".", "train_loss")],
            id="train_ and valid_ prefixes",
        ),
        pytest.param([(".", ["loss", "accuracy"])], [], id="nothing to pair"),
        pytest.param([(".", ["val_loss"])], [], id="validation without training"),
        pytest.param([("a", ["val_loss"]), ("b", ["loss"])], [], id="tag pairs stay inside a run"),
    ],
)
def test_layouts(
    runs: list[tuple[str, list[str]]], expected: list[tuple[str, str, str, str]]
) -> None:
    assert _pairs(runs) == expected


def test_accepts_reader_runs() -> None:
    runs = [Run("train", ("f",), ()), Run("validation", ("f",), ())]
    assert pair_series(runs) == []


_WORDS = st.sampled_from(
    ["train", "validation", "val", "eval", "Loss_train", "Loss_val", "acc_test", "run1", "x"]
)
_RUN = st.lists(_WORDS, min_size=1, max_size=3).map("/".join)
_TAG = st.sampled_from(["loss", "Loss", "val_loss", "epoch_loss", "acc", "Loss/train", "eval/loss"])


@given(st.dictionaries(_RUN, st.lists(_TAG, min_size=1, max_size=4, unique=True), max_size=8))
def test_pairs_never_cross_run_groups(layout: dict[str, list[str]]) -> None:
    group_of = {name: i for i, g in enumerate(run_groups(layout)) for name in g}
    assert sorted(group_of) == sorted(layout)
    for pair in pair_series(list(layout.items())):
        assert group_of[pair.validation_run] == group_of[pair.training_run], pair


def test_run_groups_keep_keras_and_add_scalars_siblings_together() -> None:
    groups = run_groups(["a/train", "a/validation", "b/Loss_train", "b/Loss_val", "c", "a"])
    assert groups == [("a",), ("a/train", "a/validation"), ("b/Loss_train", "b/Loss_val"), ("c",)]


def test_tag_words_are_memoised_and_the_same_as_computed() -> None:
    tags = ["val_loss", "Loss/val", "train/acc", "eval/accuracy_epoch", "lr", "test-err", "a_b"]
    for tag in tags:
        assert pairing._tag_words(tag) == pairing._tag_words.__wrapped__(tag)
        assert pairing._tag_words(tag) is pairing._tag_words(tag)
    assert pairing._tag_words("val_loss") == ("validation", "loss")
    assert pairing._tag_words("Loss/val") == ("validation", "loss")
    assert pairing._tag_words("val_test_loss") == (None, "val/test/loss")
