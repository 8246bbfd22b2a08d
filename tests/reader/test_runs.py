"""Reading given runs, and a large logdir run by run in a pool: what read_logdir gives."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tbplateau.reader import LogdirReader, RunFiles, read_logdir, read_runs
from tbplateau.reader import logdir as logdir_mod
from tbplateau.reader.discover import LocalFileSystem, discover_runs
from tbplateau.reader.model import Logdir
from tests import helpers as h
from tests.sweep.layouts import make_sweep


def flat(logdir: Logdir) -> list[Any]:
    """Everything read, as plain values (series compare by identity otherwise)."""

    def floats(xs: Any) -> list[Any]:
        return ["nan" if math.isnan(x) else x for x in xs.tolist()]

    return [
        (
            r.name,
            r.files,
            r.read_issues,
            r.other_tags,
            r.session_starts,
            [
                (
                    s.tag,
                    s.steps.tolist(),
                    floats(s.values),
                    s.wall_times.tolist(),
                    s.replaced_points,
                    s.encoding,
                )
                for s in r.series
            ],
        )
        for r in logdir.runs
    ]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_sweep(tmp_path_factory.mktemp("sweep"), size=3)
    h.write_events(
        root / "mixed" / "events.out.tfevents.1", h.curve("loss", range(20), tensor=True)
    )
    return root


def test_read_runs_of_every_run_is_read_logdir(sweep_dir: Path) -> None:
    runs, _ = discover_runs(LocalFileSystem(str(sweep_dir)))
    assert flat(read_runs(sweep_dir, runs)) == flat(read_logdir(sweep_dir, workers=1))


def test_read_runs_reads_only_the_runs_given(sweep_dir: Path) -> None:
    runs, _ = discover_runs(LocalFileSystem(str(sweep_dir)))
    some = [r for r in runs if r.name.startswith(("lr_01", "damaged", "restarted"))]
    got = read_runs(sweep_dir, reversed(some))
    whole = {r[0]: r for r in flat(read_logdir(sweep_dir, workers=1))}
    assert flat(got) == [whole[r.name] for r in sorted(some, key=lambda r: r.name)]


def test_a_file_that_is_gone_is_unreadable(sweep_dir: Path) -> None:
    run = RunFiles("ghost", str(sweep_dir / "ghost"), (str(sweep_dir / "ghost" / "e.tfevents"),))
    (issue,) = read_runs(sweep_dir, [run])["ghost"].read_issues
    assert issue.problem.value == "unreadable"
    assert issue.message == "ghost/e.tfevents: cannot read file: No such file or directory"


def test_the_pool_reads_what_one_process_reads(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = flat(read_logdir(sweep_dir, workers=1))
    seen: list[int] = []
    pooled = logdir_mod._read_in_pool(
        LogdirReader(sweep_dir, workers=2, parallel_min_bytes=0), lambda d, t: seen.append(d)
    )
    assert pooled is not None
    assert flat(pooled) == serial
    assert seen[-1] == sum(len(r.files) for r in read_logdir(sweep_dir, workers=1).runs)


def test_small_logdirs_are_read_here_and_walked_once(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = discover_runs

    def counted(fs: Any) -> Any:
        calls.append(fs.root)
        return real(fs)

    monkeypatch.setattr(logdir_mod, "discover_runs", counted)
    assert flat(read_logdir(sweep_dir, workers=2)) == flat(read_logdir(sweep_dir, workers=1))
    assert len(calls) == 2  # once per read: the pool's size check is reused
