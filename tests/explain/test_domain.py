"""What the report says on the shapes of issue 9, on real logs and on synthetic twins.

Each example a practitioner found absurd on a real logdir of ``../shared/realworld``
has a test on that logdir (skipped when it is absent) and one on a synthetic logdir of
the same shape, so the behaviour is held without the shared corpus too.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import tbplateau
from tbplateau.explain import ReportView, RunView, SeriesView, report_view
from tbplateau.findings import FindingKind
from tbplateau.reader.model import Logdir, Run
from tbplateau.series import Series

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "realworld"
FIXTURES = ROOT / "fixtures"


def real(name: str) -> Path:
    path = REAL / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return path


def view_of(logdir: Logdir | Path) -> ReportView:
    ld = logdir if isinstance(logdir, Logdir) else tbplateau.read_logdir(logdir)
    return report_view(tbplateau.analyze(ld), ld)


def rows(view: ReportView) -> Iterator[tuple[RunView, SeriesView]]:
    for run in view.runs:
        for row in run.series:
            yield run, row


def row(view: ReportView, run: str, tag: str) -> SeriesView:
    for r, s in rows(view):
        if r.run == run and s.tag == tag:
            return s
    raise AssertionError(f"no row {run}/{tag}")


def logdir(*runs: tuple[str, dict[str, np.ndarray]], steps: np.ndarray | None = None) -> Logdir:
    out = []
    for name, series in runs:
        made = []
        for tag, values in series.items():
            t = steps if steps is not None else np.arange(len(values))
            made.append(Series(name, tag, steps=t[: len(values)], values=values))
        out.append(Run(name, ("f",), tuple(made)))
    return Logdir("mem", tuple(out))


def noisy(values: np.ndarray, seed: int = 0, scale: float = 0.01) -> np.ndarray:
    return values * np.exp(np.random.default_rng(seed).normal(0, scale, values.size))


def all_text(view: ReportView) -> str:
    parts = []
    for run in view.runs:
        parts.extend([run.not_judged or "", *run.notes])
        for s in run.series:
            parts.append(s.verdict_text)
        for a in run.advice:
            parts.extend([a.title, *a.lines()])
    return "\n".join(parts)


# -- sentinels and components whose rise is expected -----------------------------------


def test_tfod_sentinels_and_regularisation_loss_real() -> None:
    view = view_of(real("huzaifasharafat__TFODCourse"))
    evaluation = "Tensorflow/workspace/models/my_ssd_mobnet/eval"
    large = row(view, evaluation, "DetectionBoxes_Precision/mAP (large)")
    assert not large.findings
    assert large.state == "not judged"
    assert "always -1, COCO's 'not applicable'" in large.verdict_text
    train = "Tensorflow/workspace/models/my_ssd_mobnet/train"
    reg = row(view, train, "Loss/regularization_loss")
    assert not reg.findings  # it rose 0.1528 -> 0.1773, as regularisation losses do
    text = all_text(view)
    assert "flat line since step 2,000" not in text
    assert "regularisation loss normally grows as the weights grow" in text
    run = next(r for r in view.runs if r.run == evaluation)
    assert run.not_judged is not None
    assert "DetectionBoxes_Precision/mAP (large)" in run.not_judged


def test_sentinels_and_regularisation_loss_synthetic() -> None:
    t = np.arange(0, 20)
    ld = logdir(
        (
            "eval",
            {
                "DetectionBoxes_Precision/mAP (large)": np.full(20, -1.0),
                "DetectionBoxes_Precision/mAP": noisy(0.1 + 0.3 * (1 - np.exp(-t / 4)), 1),
            },
        ),
        (
            "train",
            {
                "Loss/regularization_loss": 0.15 + 0.002 * t,
                "Loss/total_loss": noisy(np.exp(-t / 5) + 0.5, 2),
            },
        ),
    )
    view = view_of(ld)
    large = row(view, "eval", "DetectionBoxes_Precision/mAP (large)")
    assert (large.state, large.findings) == ("not judged", ())
    reg = row(view, "train", "Loss/regularization_loss")
    assert reg.findings == ()
    assert reg.summary.judged_kinds == {FindingKind.NONFINITE}
    assert "diverged" not in all_text(view)


# -- batch-level running means ------------------------------------------------------------


def test_keras_batch_running_means_real() -> None:
    view = view_of(real("TheCodeheadMT__TensorBoard-Tutorial"))
    for _, s in rows(view):
        if s.tag.startswith("batch_"):
            assert all(
                f.kind in (FindingKind.NONFINITE, FindingKind.DIVERGENCE) for f in s.findings
            )
    assert "a larger batch" not in all_text(view)


def test_batch_series_are_only_judged_for_blow_ups() -> None:
    n = 400
    wiggle = 0.9 + 0.00002 * (-1) ** np.arange(n)  # swings of a running mean at its floor
    ld = logdir(("r", {"batch_loss": np.r_[np.linspace(2, 0.9, 100), wiggle[100:]]}))
    view = view_of(ld)
    s = row(view, "r", "batch_loss")
    assert s.findings == ()
    assert s.state == "partly judged"
    assert "batch-level running mean" in (view.runs[0].not_judged or "")
    blown = logdir(
        ("r", {"batch_loss": np.r_[np.linspace(2, 0.9, 100), np.geomspace(0.9, 1e6, 100)]})
    )
    kinds = {f.kind for f in row(view_of(blown), "r", "batch_loss").findings}
    assert FindingKind.DIVERGENCE in kinds


# -- bounds: solved, fits the training data, at chance level ------------------------------


def test_validation_accuracy_of_one_is_solved_not_a_plateau() -> None:
    t = np.arange(60)
    acc = np.minimum(1.0, 0.6 + 0.05 * t)
    ld = logdir(
        (
            "x/train",
            {
                "epoch_accuracy": np.minimum(1.0, 0.5 + 0.05 * t),
                "epoch_loss": noisy(np.exp(-t / 10), 3),
            },
        ),
        ("x/validation", {"epoch_accuracy": acc, "epoch_loss": noisy(np.exp(-t / 12) + 0.01, 4)}),
    )
    view = view_of(ld)
    val = row(view, "x/validation", "epoch_accuracy")
    assert val.state == "solved"
    assert val.verdict_text.startswith("solved: at its maximum (1)")
    assert val.advice is not None
    assert not any("capacity" in t or "optimiser" in t for t in val.advice.tries)
    train = row(view, "x/train", "epoch_accuracy")
    assert train.state == "fits"  # a training accuracy of 1 is not "solved"


def test_rl_reward_at_its_maximum_is_solved_real() -> None:
    view = view_of(real("bwubrian__snakeai"))
    run = "summaries/attempt0_RollerBallBrain"
    reward = row(view, run, "Environment/Cumulative Reward")
    assert reward.state == "solved"
    assert reward.twins == ("Policy/Extrinsic Reward",)  # the same values, one row
    assert reward.advice is not None
    assert "The task looks solved" in reward.advice.text
    assert "capacity" not in reward.advice.text


def test_rl_reward_at_its_maximum_is_solved_synthetic() -> None:
    t = np.arange(40)
    reward = np.minimum(1.0, 0.1 + 0.1 * t) - np.where(t > 15, 0.02 * (t % 2), 0)
    ld = logdir(
        ("rb", {"Environment/Cumulative Reward": reward, "Policy/Extrinsic Reward": reward})
    )
    view = view_of(ld)
    s = row(view, "rb", "Environment/Cumulative Reward")
    assert s.state == "solved"
    assert row(view, "rb", "Policy/Extrinsic Reward").state == "twin"
    assert "more capacity" not in all_text(view)


def test_a_loss_at_ln_2_is_at_chance_level_and_the_advice_follows_the_lr() -> None:
    view = view_of(FIXTURES / "keras_lr_too_low")
    loss = row(view, "train", "epoch_loss")
    assert loss.verdict_text == "at chance level (ln 2)"
    acc = row(view, "train", "epoch_accuracy")
    assert acc.state == "chance"
    text = all_text(view)
    # the LR stayed at 1e-05: no "LR drop" story, no ReduceLROnPlateau, raise it instead
    assert "an LR drop or a schedule step" not in text
    assert "ReduceLROnPlateau or an LR schedule" not in text
    assert "raise the LR" in text
    assert "stayed at 1e-05 throughout" in text
    # its loss still falls every epoch (0.874 to 0.6925): not "learned nothing"
    assert "learned little beyond chance so far, though it still falls" in text
    assert "learned nothing beyond chance" not in text


@pytest.mark.parametrize("classes", [2, 10])
def test_chance_level_synthetic(classes: int) -> None:
    t = np.arange(30)
    loss = math.log(classes) * (1 + 0.002 * np.exp(-t / 5)) + 0.0005 * np.sin(t)
    acc = np.full(30, 1 / classes) + 0.004 * np.sin(t)
    ld = logdir(("r", {"loss": loss, "accuracy": acc, "learning_rate": np.full(30, 1e-6)}))
    view = view_of(ld)
    assert row(view, "r", "loss").verdict_text.startswith(f"at chance level (ln {classes})")
    assert row(view, "r", "accuracy").state == "chance"
    assert "raise the LR" in all_text(view)


def test_a_dead_network_predicts_the_class_prior() -> None:
    view = view_of(FIXTURES / "keras_dead_relu")
    acc = row(view, "train", "epoch_accuracy")
    assert "class prior (68%)" in acc.verdict_text
    view = view_of(FIXTURES / "keras_transfer_frozen")
    assert "no positive predictions" in row(view, "train", "epoch_recall").verdict_text


# -- the logged learning rate and the warm-up ---------------------------------------------


def test_yolov5_warmup_run_is_too_early_to_judge_real() -> None:
    view = view_of(real("haniaraslan__yolov5"))
    recall = row(view, "runs/train/exp", "metrics/recall")
    # 11 epochs of warm-up whose last value is near its best: no divergence at step 0
    assert not any(f.kind is FindingKind.DIVERGENCE for f in recall.findings)
    assert recall.state in ("warm-up", "improving")
    assert recall.advice is None or "lower the LR" not in recall.advice.text
    warm = [s for r in view.runs if r.run == "runs/train/exp" for s in r.series]
    warm = [s for s in warm if s.state == "warm-up"]
    assert warm
    assert all(s.verdict_text.startswith("too early (LR warm-up)") for s in warm)
    run = next(r for r in view.runs if r.run == "runs/train/exp")
    assert any(note.startswith("warm-up: x/lr0 rose") for note in run.notes)
    # "still about 0 (of a possible 1)" holds for the scores, not for a loss folded under them
    score = next(a for a in run.advice if a.tag == "metrics/mAP_0.5")
    assert "still about 0" in score.text
    assert "val/obj_loss" not in score.also
    # the finding's confidence is in the facts; "too early to judge ... 100%" read as sure
    assert all(a.shown_confidence is None for a in run.advice if a.label == "warm-up")


def test_findings_inside_a_warmup_are_too_early_synthetic() -> None:
    t = np.arange(11)
    metric = np.array([0.004, 0.002, 0.001, 0.001, 0.001, 0.002, 0.002, 0.003, 0.004, 0.005, 0.004])
    ld = logdir(
        (
            "r",
            {
                "metrics/recall": metric,
                "x/lr0": 1e-4 + 6e-5 * t,
                "train/box_loss": noisy(0.1 * np.exp(-t / 8), 5),
            },
        )
    )
    view = view_of(ld)
    s = row(view, "r", "metrics/recall")
    if s.findings:
        assert s.state == "warm-up"
    assert "lower the LR" not in all_text(view)


def test_nan_during_a_warmup_blames_the_peak_lr() -> None:
    t = np.arange(20)
    loss = np.r_[noisy(np.full(9, 0.6), 7), np.full(11, np.nan)]
    ld = logdir(("r", {"Loss/total_loss": loss, "learning_rate": 0.02 + 0.004 * t}))
    view = view_of(ld)
    s = row(view, "r", "Loss/total_loss")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.NONFINITE
    assert "during the LR warm-up" in s.advice.text
    assert s.advice.tries[0].startswith("a lower peak LR")


def test_an_lr_of_zero_is_named() -> None:
    view = view_of(FIXTURES / "keras_lr_zero_and_healthy")
    s = row(view, "lr_zero/train", "epoch_loss")
    assert s.advice is not None
    assert "is 0" in s.advice.text
    assert s.advice.tries[0].startswith("restore a non-zero LR")


def test_a_flat_line_a_step_before_the_lr_turns_zero_blames_the_zero_lr() -> None:
    # the validation side is evaluated after each epoch: flat from epoch 14, the LR logged
    # as 0 from epoch 15 (it said "The LR was not zero (0.001)")
    view = view_of(FIXTURES / "keras_lr_zero_and_healthy")
    s = row(view, "lr_zero/validation", "epoch_accuracy")
    assert s.advice is not None
    assert "is 0 from epoch 15" in s.advice.text, s.advice.text
    assert "was not zero" not in s.advice.text
    assert s.advice.tries[0].startswith("restore a non-zero LR")


@pytest.mark.parametrize("blows_up", [False, True])
def test_an_lr_raise_at_the_onset_of_a_divergence_is_named(blows_up: bool) -> None:
    # keras_lr_too_high: the LR goes from 0.05 to 1.2 at epoch 8, the loss diverges at 8
    t = np.arange(30)
    loss = noisy(0.5 * np.exp(-t / 4.0) + 0.05, 3)
    loss[8:] = 0.07 * np.exp(np.arange(22) * (3.0 if blows_up else 0.2))
    lr = np.where(t < 8, 0.05, 1.2)
    view = view_of(logdir(("r", {"loss": loss, "lr": lr})))
    s = row(view, "r", "loss")
    assert s.advice is not None
    assert "raised from 0.05 to 1.2 at step 8" in s.advice.text, s.advice.text
    assert s.advice.tries[0] == "keep the LR at 0.05 (or raise it less)", s.advice.tries


def test_a_divergence_says_when_it_was_worst_and_where_it_ended() -> None:
    # keras_dead_relu: it said "from 0.9099 it went to 0.5671 by the end", but 0.5671 is the
    # low at epoch 11 and the last value is 0.6801
    view = view_of(FIXTURES / "keras_dead_relu")
    s = row(view, "train", "epoch_accuracy")
    assert s.advice is not None
    assert "it went to 0.5671 at epoch 11, and was 0.6801 at the end" in s.advice.text


def test_a_cyclic_lr_is_named_as_such_not_as_a_cut() -> None:
    # tf_summary_custom_loop: a triangle between 0.05 and 15 every 200 steps; it said "The
    # schedule had already cut the LR before it (15 → 3.04)"
    text = all_text(view_of(FIXTURES / "tf_summary_custom_loop"))
    assert "cycles between 0.05 and 15" in text
    assert "had already cut the LR" not in text


def test_the_evaluations_after_a_validation_best_are_counted_as_evaluations() -> None:
    view = view_of(FIXTURES / "hf_trainer")
    text = all_text(view)
    assert "evaluations after it" in text
    assert "27 steps after it" not in text


# -- train vs validation -------------------------------------------------------------------


def test_validation_stall_while_training_improves_asks_for_regularisation() -> None:
    t = np.arange(120)
    ld = logdir(
        ("x/train", {"epoch_loss": noisy(0.05 + np.exp(-t / 30), 8)}),
        (
            "x/validation",
            {"epoch_loss": noisy(np.r_[0.4 + np.exp(-t[:30] / 8), np.full(90, 0.45)], 9, 0.005)},
        ),
    )
    view = view_of(ld)
    s = row(view, "x/validation", "epoch_loss")
    kinds = {f.kind for f in s.findings}
    if (
        FindingKind.PLATEAU in kinds
        and s.advice is not None
        and s.advice.kind is FindingKind.PLATEAU
    ):
        assert any("regularisation" in t for t in s.advice.tries)
        assert not any("capacity" in t for t in s.advice.tries)


def test_short_validation_series_that_rises_is_said_real() -> None:
    # Lightning's valid_loss (4 evaluations, rising from the first) pairs with
    # train_loss_epoch, which fell 60 %: overfitting from the first evaluation, said with
    # its values, never "keep training".
    view = view_of(real("AradhyaSpace11__KANKAN"))
    s = row(view, "lightning_logs/version_1", "valid_loss")
    assert s.state == "finding"
    assert s.advice is not None
    assert s.advice.kind is FindingKind.OVERFITTING
    assert "2.15" in s.advice.text
    assert "2.385" in s.advice.text
    assert "train_loss_epoch kept improving" in s.advice.text
    assert "keep training" not in s.advice.text


def test_short_validation_series_that_rises_is_said_synthetic() -> None:
    steps = np.array([99, 199, 299, 399])
    ld = logdir(
        (
            "r",
            {
                "ptl/val_loss": np.array([2.15, 2.19, 2.27, 2.385]),
                "train_loss_epoch": np.linspace(1.0, 0.42, 4),
            },
        ),
        steps=steps,
    )
    view = view_of(ld)
    s = row(view, "r", "ptl/val_loss")
    assert s.state == "worsening"
    assert s.verdict_text == "worse since step 99 (4 evaluations)"
    assert view.findings == 0
    assert view.states  # the summary does not read as "healthy"


def test_a_training_loss_still_falling_in_an_overfitting_run_is_not_told_to_keep_training() -> None:
    # The training loss still falls fast at its end (a forecast would say "keep training"),
    # but the validation loss has risen for 60 epochs: more steps fit the training data,
    # they do not help the model generalise; the advice says so.
    t = np.arange(120, dtype=np.float64)
    ld = logdir(
        (
            "r",
            {
                "train_loss": noisy(0.05 + 2.0 * np.exp(-t / 60), 21, 0.003),
                "val_loss": noisy(0.6 + 0.4 * np.exp(-t / 10) + 0.004 * np.maximum(0, t - 60), 22),
            },
        )
    )
    view = view_of(ld)
    val = row(view, "r", "val_loss")
    assert val.advice is not None
    assert val.advice.kind is FindingKind.OVERFITTING
    s = row(view, "r", "train_loss")
    assert s.advice is not None
    assert "keep training" not in s.advice.text
    assert "val_loss is overfitting" in s.advice.text


def test_a_run_with_several_loss_pairs_names_the_pair_that_overfits() -> None:
    # YOLOv5 logs three loss pairs; only the objectness one overfits. The box loss's
    # training side is told where the run overfits, never that its own partner does.
    t = np.arange(120, dtype=np.float64)
    ld = logdir(
        (
            "r",
            {
                "train/obj_loss": noisy(0.05 + 2.0 * np.exp(-t / 60), 21, 0.003),
                "val/obj_loss": noisy(
                    0.6 + 0.4 * np.exp(-t / 10) + 0.004 * np.maximum(0, t - 60), 22
                ),
                "train/box_loss": noisy(0.04 + 1.5 * np.exp(-t / 70), 23, 0.003),
                "val/box_loss": noisy(0.5 + 0.5 * np.exp(-t / 8), 24, 0.002),
            },
        )
    )
    view = view_of(ld)
    assert row(view, "r", "val/obj_loss").advice.kind is FindingKind.OVERFITTING  # type: ignore[union-attr]
    assert row(view, "r", "val/box_loss").advice.kind is not FindingKind.OVERFITTING  # type: ignore[union-attr]
    box = row(view, "r", "train/box_loss").advice
    assert box is not None
    assert "val/obj_loss is overfitting" in box.text
    assert "val/box_loss is overfitting" not in box.text


def test_kankan_training_loss_is_not_told_to_keep_training() -> None:
    view = view_of(real("AradhyaSpace11__KANKAN"))
    s = row(view, "lightning_logs/version_1", "train_loss_epoch")
    assert s.advice is not None
    assert "keep training" not in s.advice.text
    assert "valid_loss is overfitting" in s.advice.text


# -- what is judged, and folding ---------------------------------------------------------------


def test_sb3_reward_is_judged() -> None:
    t = np.arange(40)
    ld = logdir(
        (
            "PPO_1",
            {
                "rollout/ep_rew_mean": noisy(10 + 100 * (1 - np.exp(-t / 10)), 11),
                "rollout/ep_len_mean": noisy(np.full(40, 200.0), 12),
                "train/loss": noisy(np.full(40, 3.0), 13),
            },
        )
    )
    view = view_of(ld)
    reward = row(view, "PPO_1", "rollout/ep_rew_mean")
    assert reward.summary.goal == "max"
    assert reward.state not in ("not judged", "partly judged")
    assert row(view, "PPO_1", "train/loss").state == "not judged"  # an SB3 diagnostic
    assert view.runs[0].framework == "Stable-Baselines3"


def test_nothing_judged_does_not_read_as_healthy() -> None:
    ld = logdir(("r", {"epoch": np.arange(10.0), "learning_rate": np.full(10, 0.1)}))
    view = view_of(ld)
    assert view.summary["judged_series"] == 0
    assert "(0 judged)" in view.headline()
    assert view.runs[0].not_judged is not None
    assert "--goal 'TAG=min'" in view.runs[0].not_judged


def test_keras_twins_are_one_row_and_one_advice() -> None:
    view = view_of(FIXTURES / "keras_lr_schedules")
    run = next(r for r in view.runs if r.run == "step_schedule/validation")
    twins = [s for s in run.series if s.state == "twin"]
    assert twins
    for t in twins:
        assert t.twin_of is not None
        primary = next(s for s in run.series if s.tag == t.twin_of)
        assert t.tag in primary.twins
    advised = [a.tag for a in run.advice]
    assert not any(tag.startswith("evaluation_") for tag in advised)


def test_duplicate_steps_are_not_a_restart() -> None:
    view = view_of(FIXTURES / "hf_trainer")
    run = view.runs[0]
    assert not any(n.startswith("restart") for n in run.notes)
    assert any(n.startswith("duplicate steps: 41 points") for n in run.notes)


# -- one diagnosis, text that agrees with its numbers ------------------------------------------


def _all_views() -> Iterator[ReportView]:
    for p in sorted(FIXTURES.iterdir()):
        if p.is_dir() and any(p.rglob("*tfevents*")):
            yield view_of(p)
    if REAL.is_dir():
        for p in sorted(REAL.iterdir()):
            if p.is_dir():
                yield view_of(p)


@pytest.fixture(scope="module")
def every_view() -> list[ReportView]:
    return list(_all_views())


def test_one_diagnosis_per_series_and_no_contradicting_tries(every_view: list[ReportView]) -> None:
    for view in every_view:
        for run in view.runs:
            tags = [a.tag for a in run.advice if a.kind is not None or a.label != "improving"]
            assert len(tags) == len(set(tags)), (view.logdir, run.run, tags)
            for a in run.advice:
                joined = " ".join(a.tries)
                assert not ("lower the LR" in joined and "raise the LR" in joined)
                assert not ("ReduceLROnPlateau" in joined and "raise the LR" in joined)


def test_a_plateau_range_never_contradicts_its_best(every_view: list[ReportView]) -> None:
    import re

    for view in every_view:
        for run in view.runs:
            for a in run.advice:
                if a.label != "plateau" or not a.facts:
                    continue
                m = re.search(r"stayed between (\S+) and (\S+) \(", a.facts[0])
                if m is None:
                    continue
                lo, hi = (float(x.replace(",", "")) for x in m.groups())
                best = next((f for f in a.facts[1:] if "best" in f.lower()), "")
                b = re.search(r"[Bb]est,? ([-\d.,e+]+)", best)
                if b is None:
                    continue
                value = float(b.group(1).rstrip(",").replace(",", ""))
                inside = lo <= value <= hi
                assert (
                    inside
                    or "noisy point" in best
                    or "before it" in best
                    or "after it" in best
                    or "creep has brought it" in best
                    or "before it worsened" in best
                ), (
                    view.logdir,
                    run.run,
                    a.facts,
                )


def test_never_an_absurd_try(every_view: list[ReportView]) -> None:
    for view in every_view:
        for run in view.runs:
            for s in run.series:
                if s.advice is None:
                    continue
                if s.state in ("solved", "fits"):
                    assert "capacity" not in s.advice.text
                if s.tag.startswith("batch_"):
                    assert "a larger batch" not in s.advice.text


# -- an overfitting run and the end of its schedule -------------------------------------


def test_the_training_side_of_an_overfitting_run_is_not_told_to_add_capacity() -> None:
    view = view_of(FIXTURES / "keras_cnn_overfit")
    loss = row(view, "train", "epoch_loss")
    assert loss.advice is not None
    assert loss.advice.kind is FindingKind.PLATEAU
    assert not any("capacity" in t for t in loss.advice.tries)
    assert any("regularisation" in t for t in loss.advice.tries)
    # the LR logged as 0 at the last epoch does not end the plateau one point early
    assert loss.findings[0].end_step is None


def test_a_flat_line_at_the_end_of_a_decayed_schedule_is_not_a_dead_network() -> None:
    view = view_of(FIXTURES / "keras_cnn_overfit")
    acc = row(view, "validation", "epoch_accuracy")
    assert acc.advice is not None
    assert acc.advice.label == "flat line"
    assert "brought the LR down" in acc.advice.text
    assert "dead ReLUs" not in acc.advice.text


def test_a_divergence_starts_from_the_value_before_the_jump() -> None:
    t = np.arange(40)
    acc = np.where(t < 20, 0.9 + 0.002 * np.sin(t), 0.5 + 0.002 * np.cos(t))
    view = view_of(logdir(("r", {"accuracy": acc})))
    s = row(view, "r", "accuracy")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.DIVERGENCE
    assert "from 0.9" in s.advice.text
    assert "to 0.49" in s.advice.text or "to 0.5" in s.advice.text


def test_a_reward_plateau_gets_reinforcement_learning_advice() -> None:
    t = np.arange(120)
    reward = np.minimum(t, 40) * 0.5 + 0.3 * np.sin(1.7 * t)  # climbs, then flat at 20
    view = view_of(logdir(("ppo", {"rollout/ep_rew_mean": reward})))
    s = row(view, "ppo", "rollout/ep_rew_mean")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.PLATEAU
    assert any("exploration" in t for t in s.advice.tries)
    assert not any("capacity" in t for t in s.advice.tries)


def test_an_object_detection_eval_loss_on_five_points_is_no_plateau_real() -> None:
    view = view_of(real("huzaifasharafat__TFODCourse"))
    s = row(view, "Tensorflow/workspace/models/my_ssd_mobnet/eval", "Loss/classification_loss")
    assert not s.findings


def test_a_prechelt_stop_before_the_best_step_is_called_too_early() -> None:
    t = np.arange(60)
    train = 1.0 * np.exp(-t / 15) + 0.05
    val = np.where(t < 10, 1.0 - 0.03 * t, 0.7 + 0.01 * (t - 10))
    val[1] = 1.2  # one noisy early evaluation: GL5 fires at step 1
    ld = logdir(("r/train", {"epoch_loss": train}), ("r/validation", {"epoch_loss": val}))
    text = all_text(view_of(ld))
    assert "would have stopped too early, before the best" in text
    assert "stopped training: GL5 at step 1" not in text


def test_a_train_loss_far_below_its_validation_loss_is_a_generalisation_gap() -> None:
    t = np.arange(150)
    wiggle = 1 + 0.01 * np.sin(1.3 * t)
    train = (0.01 + 2.0 * np.exp(-t / 10)) * wiggle  # settles at 0.01
    val = (0.37 + 2.0 * np.exp(-t / 10)) * wiggle  # settles at 0.37, never rises
    ld = logdir(("r/train", {"epoch_loss": train}), ("r/validation", {"epoch_loss": val}))
    view = view_of(ld)
    for run in ("r/train", "r/validation"):
        s = row(view, run, "epoch_loss")
        assert s.advice is not None, run
        assert s.advice.kind is FindingKind.PLATEAU, run
        assert not any("capacity" in t for t in s.advice.tries), run
        assert any("regularisation" in t for t in s.advice.tries), run
        assert "generalises" in s.advice.text, run


def test_an_oscillation_from_the_first_point_has_nothing_before_it() -> None:
    view = view_of(FIXTURES / "flax")
    s = row(view, "warm_restarts", "train/loss")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.OSCILLATION
    assert "before it" not in s.advice.text
    assert "quiet stretches" in s.advice.text


def test_a_training_plateau_beside_a_solved_validation_side_needs_nothing() -> None:
    t = np.arange(200)
    train = np.minimum(0.98, 0.3 + 0.01 * t) + 0.002 * np.sin(1.1 * t)
    val = np.minimum(1.0, 0.3 + 0.012 * t)
    ld = logdir(("r/train", {"epoch_accuracy": train}), ("r/validation", {"epoch_accuracy": val}))
    view = view_of(ld)
    assert row(view, "r/validation", "epoch_accuracy").state == "solved"
    s = row(view, "r/train", "epoch_accuracy")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.PLATEAU
    assert "is at its maximum (1)" in s.advice.text
    assert s.advice.tries == ("nothing to fix: stop here (or make the task harder)",)


def test_reduce_lr_replayed_on_a_noisy_per_step_loss_says_it_would_end_learning() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(3000)
    loss = (0.25 + 2.0 * np.exp(-t / 100)) * (1 + 0.05 * rng.standard_normal(t.size))
    s = row(view_of(logdir(("r", {"train_loss": loss}))), "r", "train_loss")
    assert s.advice is not None
    assert s.advice.kind is FindingKind.PLATEAU
    assert "it would have ended learning" in s.advice.text


def test_the_loss_of_a_one_class_model_is_explained_by_the_prior_not_capacity() -> None:
    """A frozen base: the accuracy is exactly the class prior and the loss settles 1-2 %
    above the prior's entropy. The loss plateau is that prediction, not a capacity issue."""
    view = view_of(FIXTURES / "keras_transfer_frozen")
    for run in ("train", "validation"):
        loss = row(view, run, "epoch_loss")
        assert loss.state == "chance", run
        assert "predicts one class" in loss.verdict_text, run
        assert "more capacity" not in all_text(view)
