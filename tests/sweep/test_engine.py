"""The sweep engine: same report as analyze(), whatever the tasks, the client or the order."""

from __future__ import annotations

import gc
import json
import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbplateau import analyze, analyze_iter
from tbplateau.errors import (
    InvalidParameterError,
    LogdirNotFoundError,
    NoEventFilesError,
    TbplateauError,
)
from tbplateau.pairing import run_groups
from tbplateau.reader import read_logdir
from tbplateau.reader.discover import LocalFileSystem
from tbplateau.report import Report
from tbplateau.sweep import (
    Listing,
    LocalPool,
    RunEntry,
    Summary,
    Sweep,
    Task,
    _engine,
    json_chunks,
    list_logdir,
    plan_tasks,
    run_report,
    run_task,
)
from tests.sweep.layouts import Boom, Crash, detectors_with, loss_curve, make_sweep, write_run

P = ParamSpec("P")
T = TypeVar("T")


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep"))


def _serial_runs(logdir: Path | str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = analyze(logdir).to_dict()["runs"]
    return runs


def _texts(sweep: Sweep) -> list[dict[str, Any]]:
    return [json.loads(t) for _, t in sweep.texts()]


def test_one_run_per_task_gives_the_serial_report(sweep_dir: Path) -> None:
    sweep = Sweep(sweep_dir, task_runs=1)
    assert sweep.stats.tasks == len(run_groups(r.name for r in sweep.listing.runs))
    summary = Summary()

    def runs() -> Iterator[dict[str, Any]]:
        for doc in _texts(sweep):
            summary.add(run_report(doc))
            yield doc

    text = "".join(json_chunks(str(sweep_dir), runs(), summary))
    assert text == analyze(sweep_dir).to_json(indent=1) + "\n"
    assert sweep.stats.runs == len(sweep.names())
    assert sweep.stats.series > 0
    assert sweep.stats.nbytes > 0


def test_groups_travel_whole_and_tasks_respect_their_limits(sweep_dir: Path) -> None:
    listing = list_logdir(sweep_dir)
    for task_runs, task_bytes in [(1, 1 << 30), (3, 1 << 30), (256, 1), (5, 20_000)]:
        tasks = plan_tasks(listing, task_runs=task_runs, task_bytes=task_bytes)
        names = [r.name for t in tasks for g in t for r in g]
        assert sorted(names) == [r.name for r in listing.runs]
        groups = [tuple(r.name for r in g) for t in tasks for g in t]
        assert sorted(groups) == sorted(run_groups(names))
        for t in tasks:
            if len(t) > 1:  # a task closes at its limits (one group may exceed them alone)
                assert sum(len(g) for g in t) <= task_runs
                assert sum(r.nbytes for g in t for r in g) <= task_bytes


def test_small_sweeps_are_shared_between_workers() -> None:
    runs = tuple(RunEntry(f"r{i:03d}", ("e",), (10,)) for i in range(40))
    listing = Listing("x", "/x", True, runs)
    assert len(plan_tasks(listing, workers=1)) == 4
    assert len(plan_tasks(listing, workers=5)) == 20
    assert len(plan_tasks(listing, workers=100)) == 40


def test_the_process_pool_gives_the_serial_report(sweep_dir: Path) -> None:
    with LocalPool(2) as pool:
        report = analyze(sweep_dir, client=pool)
    assert report.to_dict()["runs"] == _serial_runs(sweep_dir)


def test_analyze_iter_yields_the_run_reports_in_run_order(sweep_dir: Path) -> None:
    whole = analyze(sweep_dir)
    got = list(analyze_iter(str(sweep_dir)))
    assert [r.run for r in got] == sorted(r.run for r in whole.runs)
    assert Report(whole.logdir, tuple(got)).to_dict() == whole.to_dict()


def test_select_reads_whole_groups_but_reports_only_selected_runs(sweep_dir: Path) -> None:
    sweep = Sweep(sweep_dir, select_runs="*validation", task_runs=2)
    got = _texts(sweep)
    serial = [r for r in _serial_runs(sweep_dir) if r["run"].endswith("validation")]
    assert got == serial
    # the overfitting findings need the training siblings, which were read
    assert any(r["findings"] for r in got)
    assert sorted(sweep.names()) == [r["run"] for r in serial]


class _Backwards(ThreadPoolExecutor):
    """Threads that finish later tasks first (each task sleeps less than the one before)."""

    def __init__(self) -> None:
        super().__init__(8)
        self.finished: list[int] = []

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        task = args[0] if args and isinstance(args[0], Task) else None

        def call() -> T:
            if task is not None:
                time.sleep(0.01 * max(0, 40 - task.index))
            out = fn(*args, **kwargs)
            if task is not None:
                self.finished.append(task.index)
            return out

        return super().submit(call)


def test_results_finishing_out_of_order_are_merged_in_run_order(sweep_dir: Path) -> None:
    with _Backwards() as executor:
        sweep = Sweep(sweep_dir, client=executor, task_runs=1)
        assert _texts(sweep) == _serial_runs(sweep_dir)
    assert executor.finished != sorted(executor.finished)
    assert sorted(executor.finished) == list(range(sweep.stats.tasks))


def test_a_group_that_raises_becomes_a_read_issue_on_each_of_its_runs(tmp_path: Path) -> None:
    for name in ("ok", "bad/train", "bad/validation", "zz"):
        write_run(tmp_path / name, {"loss": loss_curve(60, 30, 0.02, len(name))})
    dets = detectors_with(Boom(run="bad/validation"))
    with LocalPool(2) as pool:
        sweep = Sweep(tmp_path, client=pool, detectors=dets, task_runs=4)
        got = {r["run"]: r for r in _texts(sweep)}
    serial = {r["run"]: r for r in _serial_runs(tmp_path)}
    for name in ("ok", "zz"):
        assert got[name] == serial[name]
    for name in ("bad/train", "bad/validation"):  # the whole group: they are analysed together
        assert got[name]["series"] == []
        (issue,) = got[name]["read_issues"]
        assert issue["problem"] == "unreadable"
        assert issue["file"] == name
        assert "analysis failed: ZeroDivisionError: boom in bad/validation" in issue["message"]
    assert sweep.stats.failed_groups == 1


def test_a_worker_that_dies_costs_only_its_group(tmp_path: Path) -> None:
    for name in ("a", "b", "bad", "c", "d"):
        write_run(tmp_path / name, {"loss": loss_curve(60, 30, 0.02, len(name))})
    with LocalPool(2) as pool:
        sweep = Sweep(tmp_path, client=pool, detectors=detectors_with(Crash(run="bad")))
        got = {r["run"]: r for r in _texts(sweep)}
        assert pool.restarts >= 1
    serial = {r["run"]: r for r in _serial_runs(tmp_path)}
    assert set(got) == set(serial)
    for name in ("a", "b", "c", "d"):
        assert got[name] == serial[name]
    (issue,) = got["bad"]["read_issues"]
    assert issue["problem"] == "unreadable"
    assert "analysis failed on a worker: BrokenProcessPool" in issue["message"]
    assert sweep.stats.failed_tasks == 1


def test_root_directory_issues_land_on_run_dot(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = LocalFileSystem.list_dir

    def list_dir(self: LocalFileSystem, path: str) -> list[tuple[str, bool]]:
        if path.endswith(os.sep + "plain_01"):
            raise PermissionError(13, "Permission denied")
        return real(self, path)

    monkeypatch.setattr(LocalFileSystem, "list_dir", list_dir)
    serial = _serial_runs(sweep_dir)
    assert "cannot list directory plain_01" in serial[0]["read_issues"][0]["message"]
    assert _texts(Sweep(sweep_dir, task_runs=3)) == serial


def test_a_root_issue_without_a_root_run_is_a_run_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_run(tmp_path / "a", {"loss": loss_curve(60, 30, 0.0, 1)})
    (tmp_path / "b").mkdir()
    real = LocalFileSystem.list_dir

    def list_dir(self: LocalFileSystem, path: str) -> list[tuple[str, bool]]:
        if path.endswith(os.sep + "b"):
            raise PermissionError(13, "Permission denied")
        return real(self, path)

    monkeypatch.setattr(LocalFileSystem, "list_dir", list_dir)
    serial = _serial_runs(tmp_path)
    assert [r["run"] for r in serial] == [".", "a"]
    assert _texts(Sweep(tmp_path)) == serial


def test_a_manifest_reads_the_runs_it_names(sweep_dir: Path) -> None:
    names = ["hf_01", "lr_02/validation", "lr_02/train", "nested/a/run_03", ".", "missing/run"]
    got = {r["run"]: r for r in _texts(Sweep(sweep_dir, runs=names))}
    serial = {r["run"]: r for r in _serial_runs(sweep_dir)}
    for name in names[:-1]:
        assert got[name] == serial[name]
    (issue,) = got["missing/run"]["read_issues"]
    assert issue["problem"] == "unreadable"
    assert issue["message"].startswith("cannot list run directory missing/run: ")
    assert set(got) == set(names)


def test_a_manifest_run_without_event_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    write_run(tmp_path / "a", {"loss": loss_curve(60, 30, 0.0, 1)})
    got = {r["run"]: r for r in _texts(Sweep(tmp_path, runs=["empty", "a"]))}
    assert got["empty"]["read_issues"][0]["message"] == (
        "no event files (*tfevents*) in run directory empty"
    )


def test_a_file_that_vanished_after_listing_is_an_unreadable_file(tmp_path: Path) -> None:
    write_run(tmp_path / "a", {"loss": loss_curve(60, 30, 0.0, 1)})
    write_run(tmp_path / "b", {"loss": loss_curve(60, 30, 0.0, 2)})
    sweep = Sweep(tmp_path)
    (tmp_path / "b" / "events.out.tfevents.1.host").unlink()
    got = {r["run"]: r for r in _texts(sweep)}
    (issue,) = got["b"]["read_issues"]
    assert issue == {
        "file": "b/events.out.tfevents.1.host",
        "offset": 0,
        "problem": "unreadable",
        "message": "b/events.out.tfevents.1.host: cannot read file: No such file or directory",
    }
    assert got["a"]["series"]


def test_a_worker_with_another_version_is_refused(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_engine, "worker_version", lambda: "0.0.0-elsewhere")
    with ThreadPoolExecutor(2) as pool, pytest.raises(TbplateauError, match="install the same"):
        list(Sweep(sweep_dir, client=pool).texts())


def test_tasks_carry_names_and_options_only(sweep_dir: Path) -> None:
    task = Sweep(sweep_dir).tasks[0]
    assert task.root == str(sweep_dir)
    assert len(pickle.dumps(task)) < 100 * len(task.names)
    result = run_task(task)
    assert [n for n, _ in result.runs] == task.names
    assert result.read_s > 0
    assert result.analyze_s > 0


def test_errors_are_raised_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(LogdirNotFoundError):
        Sweep(tmp_path / "nope")
    with pytest.raises(NoEventFilesError):
        Sweep(tmp_path)
    with pytest.raises(InvalidParameterError):
        Sweep(tmp_path, runs=[])
    with pytest.raises(InvalidParameterError, match="client must be"):
        Sweep(tmp_path, client=object())
    write_run(tmp_path / "a", {"loss": [1.0, 0.5]})
    sweep = Sweep(tmp_path)
    list(sweep.texts())
    with pytest.raises(RuntimeError, match="once"):
        list(sweep.texts())
    with pytest.raises(InvalidParameterError, match="Logdir"):
        analyze(read_logdir(tmp_path), client=ThreadPoolExecutor(1))


_NAMES = st.sampled_from(
    ["x/train", "x/validation", "y/Loss_train", "y/Loss_val", "z", "z/eval", "w/run", "a/b/c", "."]
)
_TAGS = st.sampled_from(["loss", "Loss", "val_loss", "epoch_accuracy", "eval/loss", "lr"])


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.dictionaries(_NAMES, st.lists(_TAGS, min_size=1, max_size=3, unique=True), min_size=1),
    st.integers(1, 4),
    st.integers(0, 2**31),
)
def test_any_layout_and_task_size_gives_the_whole_logdir_analysis(
    tmp_path_factory: pytest.TempPathFactory,
    layout: dict[str, list[str]],
    task_runs: int,
    seed: int,
) -> None:
    root = tmp_path_factory.mktemp("layout")
    for i, (name, tags) in enumerate(sorted(layout.items())):
        rise = -0.005 if "train" in name else 0.04
        write_run(
            root / name if name != "." else root,
            {tag: loss_curve(60, 20 + (seed + i) % 20, rise, seed + i) for tag in tags},
        )
    assert _texts(Sweep(root, task_runs=task_runs)) == _serial_runs(root)


def test_importing_tbplateau_and_analysing_does_not_import_dask() -> None:
    code = (
        "import sys, tbplateau, tbplateau.sweep, tbplateau.cli\n"
        "tbplateau.analyze('fixtures/sample')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print(bad)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_a_sweep_keeps_no_series_alive(sweep_dir: Path) -> None:
    """Memory stays flat in the number of runs: nothing read is held once analysed."""
    from tbplateau.series import Series

    gc.collect()
    before = sum(1 for o in gc.get_objects() if isinstance(o, Series))
    for _ in Sweep(sweep_dir, task_runs=4).texts():
        pass
    gc.collect()
    assert sum(1 for o in gc.get_objects() if isinstance(o, Series)) == before
