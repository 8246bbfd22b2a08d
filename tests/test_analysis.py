from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbplateau.analysis import (
    REPORT_SCHEMA,
    Report,
    RunReport,
    _same_values,
    _series_report,
    analyze,
    analyze_runs,
)
from tbplateau.curves import attach
from tbplateau.detectors import PlateauDetector
from tbplateau.detectors.base import onset_tolerance
from tbplateau.evaluation.synthetic import generate_cases
from tbplateau.findings import FindingKind, Goal
from tbplateau.goals import judge_plan
from tbplateau.pairing import run_groups
from tbplateau.reader.model import Logdir, Problem, ReadIssue, Run
from tbplateau.series import Series


def _schema() -> dict[str, object]:
    text = resources.files("tbplateau").joinpath("schema/report-1.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def _keras_logdir() -> Logdir:
    rng = np.random.default_rng(0)
    u = np.arange(60)
    train = np.exp(-2 * np.log1p(u / 3) + rng.normal(0, 0.02, 60))
    val = np.exp(np.where(u < 25, -u / 25, -1 + (u - 25) / 40) + rng.normal(0, 0.01, 60))
    lr = np.full(60, 1e-3)
    acc = np.full(60, 0.1)
    issue = ReadIssue(
        "train/events.out.tfevents.2", 120, Problem.TRUNCATED, "last record incomplete"
    )
    return Logdir(
        "logs",
        (
            Run(
                "train",
                ("train/events.out.tfevents.1",),
                (
                    Series("train", "epoch_loss", steps=u, values=train),
                    Series("train", "epoch_learning_rate", steps=u, values=lr),
                    Series("train", "epoch_accuracy", steps=u, values=acc),
                ),
                read_issues=(issue,),
            ),
            Run(
                "validation",
                ("validation/events.out.tfevents.1",),
                (Series("validation", "epoch_loss", steps=u, values=val),),
            ),
        ),
    )


def test_report_document_shape_and_schema() -> None:
    report = analyze(_keras_logdir())
    doc = report.to_dict()
    jsonschema.validate(doc, _schema())
    assert doc["schema"] == REPORT_SCHEMA == "tbplateau.report/1"
    assert doc["logdir"] == "logs"
    train, val = doc["runs"]
    assert train["read_issues"][0]["problem"] == "truncated"
    by_tag = {s["tag"]: s for s in train["series"]}
    assert by_tag["epoch_learning_rate"]["goal"] is None
    assert by_tag["epoch_learning_rate"]["best_step"] is None
    assert by_tag["epoch_loss"]["goal"] == "min"
    assert by_tag["epoch_loss"]["points"] == 60
    dead = by_tag["epoch_accuracy"]["findings"]
    assert [(f["kind"], f["start_step"], f["detail"]["constant"]) for f in dead] == [
        ("plateau", 0, True)
    ]
    over = val["findings"]
    assert [(f["kind"], f["tags"]) for f in over] == [("overfitting", ["epoch_loss", "epoch_loss"])]
    assert abs(over[0]["start_step"] - 25) <= 3
    assert over[0]["detail"]["training_run"] == "train"
    assert over[0]["detail"]["validation_run"] == "validation"
    # the validation loss's rise is explained by overfitting, not reported as divergence
    assert not [f for f in val["series"][0]["findings"] if f["kind"] == "divergence"]
    json.dumps(doc, allow_nan=False)


def test_nonfinite_values_are_null_in_json() -> None:
    s = Series(".", "loss", steps=[0, 1, 2], values=[1.0, math.nan, math.inf])
    doc = analyze(Logdir("x", (Run(".", ("f",), (s,)),))).to_dict()
    jsonschema.validate(doc, _schema())
    series = doc["runs"][0]["series"][0]
    assert series["last_value"] is None
    assert series["best_value"] == 1.0
    assert series["findings"][0]["kind"] == "nonfinite"


def test_empty_series_and_empty_logdir_validate() -> None:
    s = Series(".", "loss", steps=[], values=[])
    doc = analyze(Logdir("x", (Run(".", ("f",), (s,)),))).to_dict()
    jsonschema.validate(doc, _schema())
    assert doc["runs"][0]["series"][0]["first_step"] is None
    jsonschema.validate(analyze(Logdir("y", ())).to_dict(), _schema())


def test_goal_overrides_and_detector_choice() -> None:
    logdir = _keras_logdir()
    report = analyze(logdir, goals=["epoch_accuracy=none"])
    acc = next(s for s in report.runs[0].series if s.tag == "epoch_accuracy")
    assert acc.goal is None
    assert acc.findings == ()
    only = analyze(logdir, detectors={FindingKind.PLATEAU: PlateauDetector()})
    assert {f.kind for f in only.findings()} <= {FindingKind.PLATEAU}


def test_schema_rejects_a_broken_document() -> None:
    doc = analyze(_keras_logdir()).to_dict()
    doc["runs"][0]["series"][0]["findings"].append({"kind": "bogus"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, _schema())


def test_every_synthetic_report_validates() -> None:
    schema = _schema()
    for case in generate_cases(5, per_family=1, long_series=False):
        report = analyze(case.logdir)
        assert isinstance(report, Report)
        jsonschema.validate(json.loads(report.to_json()), schema)


def test_report_of_an_in_memory_logdir_renders_its_curves() -> None:
    from tbplateau.reader import Logdir, Run

    steps = np.arange(100)
    loss = Series("mem", "loss", steps=steps, values=np.exp(-steps / 10.0) + 0.5)
    report = analyze(Logdir("<memory>", (Run("mem", (), (loss,)),)))
    html = report._repr_html_()
    assert "<svg" in html
    assert "curves not available" not in html


def test_a_copy_of_the_validation_series_is_explained_too() -> None:
    # Keras writes every validation metric twice: `epoch_loss` at the epoch and
    # `evaluation_loss_vs_iterations` at the iteration, the same values point for point.
    # Only the first is paired with training; the rise must not be a divergence on either.
    base = _keras_logdir()
    val = base["validation"]["epoch_loss"]
    copy = Series(
        "validation", "evaluation_loss_vs_iterations", steps=val.steps * 100, values=val.values
    )
    logdir = Logdir(
        "logs",
        (base["train"], Run("validation", ("validation/events.out.tfevents.1",), (val, copy))),
    )
    report = analyze(logdir)
    (over,) = [f for f in report.findings() if f.kind is FindingKind.OVERFITTING]
    (run,) = [r for r in report.runs if r.run == "validation"]
    kinds = {s.tag: [f.kind for f in s.findings] for s in run.series}
    assert FindingKind.DIVERGENCE not in kinds["epoch_loss"]
    assert FindingKind.DIVERGENCE not in kinds["evaluation_loss_vs_iterations"]
    # without the copy's twin, the same curve alone does show the rise as a divergence
    alone = Logdir("logs", (Run("validation", ("v",), (copy,)),))
    assert any(f.kind is FindingKind.DIVERGENCE for f in analyze(alone).findings())
    assert over.start_step in set(val.steps.tolist())


def test_a_series_with_other_values_is_not_a_copy() -> None:
    base = _keras_logdir()
    val = base["validation"]["epoch_loss"]
    other = Series("validation", "other_loss", steps=val.steps, values=val.values * 1.0001)
    logdir = Logdir(
        "logs",
        (base["train"], Run("validation", ("validation/events.out.tfevents.1",), (val, other))),
    )
    (run,) = [r for r in analyze(logdir).runs if r.run == "validation"]
    kinds = {s.tag: [f.kind for f in s.findings] for s in run.series}
    assert FindingKind.DIVERGENCE in kinds["other_loss"]


_LAYOUT_RUNS = st.sampled_from(
    ["x/train", "x/validation", "y/Loss_train", "y/Loss_val", "z", "z/eval", "w/run"]
)
_LAYOUT_TAGS = st.sampled_from(["loss", "Loss", "val_loss", "epoch_accuracy", "eval/loss", "lr"])


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(
        _LAYOUT_RUNS, st.lists(_LAYOUT_TAGS, min_size=1, max_size=3, unique=True), max_size=6
    ),
    st.integers(0, 2**31),
)
def test_analysis_of_run_groups_equals_the_whole(layout: dict[str, list[str]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(60)
    runs = []
    for name, tags in sorted(layout.items()):
        series = []
        for tag in tags:
            knee = int(rng.integers(10, 40))
            # training sides keep improving; every other series turns up after its knee,
            # so a validation series paired with a training one overfits
            rise = -0.005 if "train" in name else 0.04
            curve = np.exp(-np.minimum(t, knee) / 10) * (1 + rise * np.maximum(t - knee, 0))
            series.append(
                Series(name, tag, steps=t, values=curve * np.exp(rng.normal(0, 0.02, 60)))
            )
        runs.append(Run(name, ("f",), tuple(series)))
    logdir = Logdir("mem", tuple(runs))
    whole = analyze(logdir).to_dict()["runs"]
    by_name = {r.name: r for r in runs}
    parts = {}
    for group in run_groups(by_name):
        for r in analyze_runs([by_name[n] for n in group]):
            parts[r.run] = r
    # the words of the document (verdicts, advice) come from the same curves
    merged = attach(Report("mem", tuple(parts[r.name] for r in runs)), logdir).to_dict()["runs"]
    assert merged == whole
    shared = set(layout.get("x/train", ())) & set(layout.get("x/validation", ()))
    if any("loss" in tag.lower() for tag in shared):
        assert any(r["findings"] for r in whole if r["run"] == "x/validation")


def _loss_and_accuracy_run(layout: str, seed: int) -> tuple[Logdir, int]:
    """A run that logs a loss pair and an accuracy pair, overfitting from epoch ``knee``."""
    rng = np.random.default_rng(seed)
    n = 60
    u = np.arange(n)
    knee = int(rng.integers(18, 30))
    train = np.exp(-2 * np.log1p(u / 3) + rng.normal(0, 0.02, n))
    val = np.exp(np.where(u < knee, -u / knee, -1 + (u - knee) / 40) + rng.normal(0, 0.01, n))
    tacc = 1 - 0.9 * np.exp(-u / 8) + rng.normal(0, 0.003, n)
    # validation accuracy peaks a few epochs after the loss minimum, then sags
    peak = knee + 3
    vacc = np.where(u < peak, 0.5 + 0.3 * u / peak, 0.8 - 0.002 * (u - peak))
    vacc = vacc + rng.normal(0, 0.003, n)
    if layout == "keras":
        runs = (
            Run(
                "train",
                ("f",),
                (
                    Series("train", "epoch_loss", steps=u, values=train),
                    Series("train", "epoch_accuracy", steps=u, values=tacc),
                ),
            ),
            Run(
                "validation",
                ("g",),
                (
                    Series("validation", "epoch_loss", steps=u, values=val),
                    Series("validation", "epoch_accuracy", steps=u, values=vacc),
                ),
            ),
        )
        return Logdir("logs", runs), knee
    if layout == "run_per_metric":  # torch add_scalars: one run per metric and role
        curves = {
            "Loss_train": train,
            "Loss_val": val,
            "Accuracy_train": tacc,
            "Accuracy_val": vacc,
        }
        per_metric = tuple(
            Run(f"x/{name}", ("f",), (Series(f"x/{name}", name.split("_")[0], steps=u, values=v),))
            for name, v in curves.items()
        )
        return Logdir("logs", per_metric), knee
    tags = {"loss": train, "val_loss": val, "accuracy": tacc, "val_accuracy": vacc}
    series = tuple(Series(".", tag, steps=u, values=v) for tag, v in tags.items())
    return Logdir("logs", (Run(".", ("f",), series),)), knee


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("layout", ["keras", "history", "run_per_metric"])
def test_one_overfitting_finding_per_run_at_the_validation_loss_minimum(
    layout: str, seed: int
) -> None:
    logdir, knee = _loss_and_accuracy_run(layout, seed)
    report = analyze(logdir)
    over = [f for f in report.findings() if f.kind is FindingKind.OVERFITTING]
    assert len(over) == 1, over
    assert abs(over[0].start_step - knee) <= 3
    assert "loss" in over[0].tags[0].lower()
    # the accuracy pair's sag is explained by the same overfitting, not a divergence
    for run in report.runs:
        for s in run.series:
            assert not [f for f in s.findings if f.kind is FindingKind.DIVERGENCE], s


def _loss_pair(u: np.ndarray, train: np.ndarray, val: np.ndarray) -> Logdir:
    """One run logging ``loss`` and ``val_loss`` at steps ``u``."""
    loss = Series(".", "loss", steps=u, values=train)
    return Logdir("logs", (Run(".", ("f",), (loss, Series(".", "val_loss", steps=u, values=val))),))


def test_validation_rise_with_training_already_flat_is_overfitting_not_divergence() -> None:
    rng = np.random.default_rng(4)
    n = 80
    u = np.arange(n)
    train = np.exp(np.log(0.05) + 3.0 * np.exp(-u / 6) + rng.normal(0, 0.02, n))
    val = np.exp(np.where(u < 30, np.log(0.6) - 0.6 * u / 30, np.log(0.6) - 0.6 + (u - 30) / 50))
    val = val * np.exp(rng.normal(0, 0.02, n))
    report = analyze(_loss_pair(u, train, val))
    kinds = [f.kind for f in report.findings()]
    assert FindingKind.OVERFITTING in kinds
    assert FindingKind.DIVERGENCE not in kinds


def test_a_recovered_blow_up_before_the_overfitting_stays_a_divergence() -> None:
    """A 40x spike of the validation loss that starts within the onset tolerance of the
    overfitting but is over before it begins is an event of its own: reported as a divergence
    beside the overfitting, not explained away as the same rise."""
    rng = np.random.default_rng(5)
    n = 120
    u = np.arange(n)
    train = np.exp(np.log(0.05) + 3.0 * np.exp(-u / 10) + rng.normal(0, 0.02, n))
    val = np.exp(np.where(u < 70, np.log(0.6) - 0.8 * u / 70, np.log(0.6) - 0.8 + (u - 70) / 40))
    val = val * np.exp(rng.normal(0, 0.02, n))
    val[64:67] *= 40.0
    found = list(analyze(_loss_pair(u, train, val)).findings())
    over = [f for f in found if f.kind is FindingKind.OVERFITTING]
    spikes = [f for f in found if f.kind is FindingKind.DIVERGENCE and f.tags[0] == "val_loss"]
    assert over
    assert over[0].start_step - 64 <= onset_tolerance(n)
    assert [abs(f.start_step - 64) <= 1 for f in spikes] == [True]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [60, 240])
def test_a_collapse_after_the_overfitting_onset_stays_a_divergence(n: int, seed: int) -> None:
    """The validation accuracy sags from its peak while the training accuracy still climbs
    (overfitting), and later the validation loss, flat until then, jumps 8-15x in one
    step and stays there (an LR raise blew the run up): that jump is a divergence of its
    own, not the same slow drift explained away as overfitting. On 240 points the jump
    falls inside a block of two (an odd step): it is still seen as one step."""
    rng = np.random.default_rng(seed)
    u = np.arange(n)
    k = n / 60
    train = np.exp(np.log(0.05) + 3.0 * np.exp(-u / (8 * k)) + rng.normal(0, 0.02, n))
    val = np.exp(np.log(0.06) + 2.0 * np.exp(-u / (5 * k)) + rng.normal(0, 0.02, n))
    t0 = int(n * rng.uniform(0.57, 0.66)) | 1
    val[t0:] *= float(rng.uniform(8.0, 15.0))
    tacc = 1 - 0.5 * np.exp(-u / (10 * k)) + rng.normal(0, 0.002, n)
    peak = int(17 * k)
    sag = np.where(u < peak, 0.6 + 0.38 * u / peak, 0.98 - 0.003 * (u - peak) / k)
    vacc = sag + rng.normal(0, 0.002, n)
    tags = {"loss": train, "val_loss": val, "accuracy": tacc, "val_accuracy": vacc}
    runs = (Run(".", ("f",), tuple(Series(".", t, steps=u, values=v) for t, v in tags.items())),)
    found = list(analyze(Logdir("logs", runs)).findings())
    over = [f for f in found if f.kind is FindingKind.OVERFITTING]
    jumps = [f for f in found if f.kind is FindingKind.DIVERGENCE and f.tags[0] == "val_loss"]
    assert over, found
    assert over[0].start_step < t0, found
    assert [abs(f.start_step - t0) <= 1 for f in jumps] == [True], found
    assert jumps[0].detail["sudden"] is True


@pytest.mark.parametrize(
    "name", ["keras_lr_schedules", "keras_lr_zero_and_healthy", "sample", "torch_summarywriter"]
)
def test_analyze_runs_on_many_groups_at_once_equals_analyze(name: str) -> None:
    # nothing of one group (its logged learning rate) may reach another, however the
    # runs are batched: the tab and watch re-analyse several groups in one call
    from tbplateau.reader import read_logdir

    logdir = read_logdir(Path(__file__).resolve().parents[1] / "fixtures" / name)

    def found(runs: tuple[RunReport, ...]) -> list[object]:
        return [(r.findings, [s.findings for s in r.series]) for r in runs]

    assert found(analyze_runs(logdir.runs)) == found(analyze(logdir).runs)


def test_same_values_are_the_point_for_point_copies_nan_included() -> None:
    values = np.array([np.nan, 1.0, 2.0, np.nan, 0.5, -0.0])
    val = Series("r", "val_acc", steps=np.arange(6), values=values)
    copy = Series("r", "val_accuracy", steps=np.arange(6) * 10, values=values + 0.0)
    first_differs = Series("r", "a", steps=np.arange(6), values=np.r_[0.0, values[1:]])
    last_differs = Series("r", "b", steps=np.arange(6), values=np.r_[values[:-1], 1.0])
    shorter = Series("r", "c", steps=np.arange(5), values=values[:5])
    others = [val, copy, first_differs, last_differs, shorter]
    assert _same_values(others, val) == [copy]
    finite = Series("r", "v", steps=np.arange(6), values=np.nan_to_num(values))
    zero_first = Series("r", "w", steps=np.arange(6), values=np.r_[-0.0, finite.values[1:]])
    assert _same_values([finite, zero_first], finite) == [zero_first]  # -0.0 == 0.0


@pytest.mark.parametrize("seed", range(6))
def test_a_recovered_blow_up_is_a_divergence_and_no_plateau(seed: int) -> None:
    """After an LR raise the loss thrashes at 12-20x its level for 15 points of 170, then
    comes back (a real edge-of-stability shape): one divergence over the thrashing, and no
    plateau inside it (a blow-up is no level the metric settled at). The old code called
    the thrashing a plateau, with no divergence."""
    rng = np.random.default_rng(seed)
    n, t0, length = 170, 75, 15
    u = np.arange(n)
    log = np.log(1.2) - 1.3 * (1 - np.exp(-u / 30)) + rng.normal(0, 0.01, n)
    high = log[t0 - 1] + math.log(rng.uniform(12, 20))
    log[t0 : t0 + length] = high + rng.normal(0, 0.4, length)
    log[t0 + length :] -= 1.0
    run = Run("r", ("r/events",), (Series("r", "loss", steps=u, values=np.exp(log)),))
    found = list(analyze(Logdir("d", (run,))).findings())
    div = [f for f in found if f.kind is FindingKind.DIVERGENCE]
    assert [(f.start_step, f.end_step is not None) for f in div] == [(t0, True)], found
    inside = [
        f for f in found if f.kind is FindingKind.PLATEAU and t0 <= f.start_step < t0 + length
    ]
    assert inside == [], found


@pytest.mark.parametrize("seed", range(4))
def test_a_collapse_whose_recovery_swings_is_a_divergence_and_an_oscillation(seed: int) -> None:
    """An LR raise (logged) throws the accuracy down to a third; it stalls, then recovers
    swinging every step (edge_of_stability runs of the second tuning pool): the report
    names both the collapse and the oscillation from the raise, neither hiding the other.
    The old code reported only the divergence."""
    rng = np.random.default_rng(seed)
    n, t0, grid = 170, 68, 1 / 45
    u = np.arange(n)
    acc = 0.82 - 0.5 * np.exp(-u / 8.0)
    stall = int(rng.integers(13, 19))
    acc[t0 : t0 + 4] = [0.9, 0.6, 0.33, 0.28]
    acc[t0 + 4 : t0 + 4 + stall] = 0.67
    b = t0 + 4 + stall
    k = np.arange(10)
    acc[b : b + 10] = 0.70 + 0.02 * k + np.where(k % 2 == 0, 1, -1) * rng.uniform(0.04, 0.06, 10)
    acc[b + 10 :] = 0.95
    acc = np.round(acc / grid) * grid
    lr = np.where(u < t0, 0.05, 2.0)
    run = Run(
        "r",
        ("r/events",),
        (
            Series("r", "val/accuracy", steps=u, values=acc),
            Series("r", "lr", steps=u, values=lr),
        ),
    )
    found = list(analyze(Logdir("d", (run,))).findings())
    near = [f for f in found if f.tags == ("val/accuracy",) and 0 <= f.start_step - t0 <= 3]
    assert FindingKind.DIVERGENCE in {f.kind for f in near}, found
    osc = [f for f in near if f.kind is FindingKind.OSCILLATION]
    assert [f.start_step for f in osc] == [t0], found
    assert osc[0].end_step is not None, found
    assert osc[0].end_step >= b + 7, found


@pytest.mark.parametrize("goal", ["min", "max"])
@pytest.mark.parametrize(
    "values",
    [
        [3.0, 1.0, 2.0, 1.0, 5.0],  # every value finite: ties go to the first
        [3.0, math.nan, 1.0, -math.inf, math.inf, 5.0],  # non-finite values never best
        [math.nan, math.nan],
    ],
)
def test_a_series_best_is_its_first_best_finite_value(goal: Goal, values: list[float]) -> None:
    s = Series("r", "loss", steps=np.arange(len(values)) * 10, values=np.array(values))
    plan = judge_plan("loss", s.values, (), framework=None)
    report = _series_report(s, goal, [], plan)
    finite = [(v, 10 * i) for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        assert (report.best_step, report.best_value) == (None, None)
        return
    best = min(finite) if goal == "min" else max(finite, key=lambda vs: (vs[0], -vs[1]))
    assert (report.best_value, report.best_step) == best
