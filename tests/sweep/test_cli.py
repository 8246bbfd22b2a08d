"""``tbplateau report`` as a sweep: ``--format jsonl``, ``--workers``, ``--runs-from``."""

from __future__ import annotations

import io
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from tbplateau.analysis import analyze_runs as real
from tbplateau.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, main
from tbplateau.sweep import _clients, _task
from tests.sweep.layouts import make_sweep

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep"), size=4)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["report", *argv],
        stdout=Console(file=out, width=120, color_system=None),
        stderr=Console(file=err, width=120, color_system=None),
    )
    return code, out.getvalue(), err.getvalue()


def ok(argv: list[str]) -> str:
    code, out, err = run(argv)
    assert code == EXIT_OK, err
    return out


@pytest.mark.slow
def test_every_fixture_gives_the_same_bytes_on_a_process_pool(sweep_dir: Path) -> None:
    for path in [*FIXTURES, sweep_dir]:
        serial = ok([str(path), "--format", "json"])
        assert ok([str(path), "--format", "json", "--workers", "2"]) == serial, path
        lines = ok([str(path), "--format", "jsonl", "--workers", "1"]).splitlines()
        assert [json.loads(line) for line in lines] == json.loads(serial)["runs"], path


def test_jsonl_lines_are_the_runs_of_the_json_report(sweep_dir: Path) -> None:
    serial = json.loads(ok([str(sweep_dir), "--format", "json"]))
    text = ok([str(sweep_dir), "--format", "jsonl"])  # every core by default
    assert text.endswith("\n")
    assert [json.loads(line) for line in text.splitlines()] == serial["runs"]
    schema = json.loads(resources.files("tbplateau").joinpath("schema/report-1.json").read_text())
    run_schema = {**schema["$defs"]["run"], "$defs": schema["$defs"]}
    for line in text.splitlines():
        jsonschema.validate(json.loads(line), run_schema)


@pytest.mark.parametrize(
    "options",
    [
        ["--runs", "*validation"],
        ["--tags", "epoch_*"],
        ["--runs", "re:^(hf|x)", "--tags", "*loss*"],
        ["--runs", "lr_0[12]/*", "--tags", "epoch_loss"],
    ],
)
def test_filters_give_the_serial_result(sweep_dir: Path, options: list[str]) -> None:
    serial = ok([str(sweep_dir), "--format", "json", *options])
    assert ok([str(sweep_dir), "--format", "json", "--workers", "1", *options]) == serial


def test_fail_on_works_while_streaming(sweep_dir: Path) -> None:
    code, _, _ = run(
        [str(sweep_dir), "--format", "jsonl", "--workers", "1", "--fail-on", "overfitting"]
    )
    assert code == EXIT_FINDINGS
    code, _, _ = run(
        [str(sweep_dir), "--format", "jsonl", "--runs", "plain_*", "--fail-on", "overfitting"]
    )
    assert code == EXIT_OK


@pytest.mark.parametrize("fmt", ["rich", "markdown"])
def test_views_of_a_sweep_say_the_curves_stayed_on_the_workers(
    sweep_dir: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tbplateau.reader import logdir as reader

    def no_reread(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the view re-read the logdir")

    monkeypatch.setattr(reader, "read_logdir", no_reread)
    monkeypatch.setattr("tbplateau.reader.read_logdir", no_reread)
    out = ok([str(sweep_dir), "--format", fmt, "--workers", "1"])
    assert "damaged" in out
    if fmt == "rich":
        assert "curves not available" in out


def test_runs_from_a_manifest(
    sweep_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "runs.txt"
    manifest.write_text("lr_00/train\nlr_00/validation\n\n# comment\nhf_01\n")
    serial = json.loads(ok([str(sweep_dir), "--format", "json"]))["runs"]
    got = json.loads(ok([str(sweep_dir), "--format", "json", "--runs-from", str(manifest)]))
    assert got["runs"] == [
        r for r in serial if r["run"] in ("hf_01", "lr_00/train", "lr_00/validation")
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("hf_01\n"))
    lines = ok([str(sweep_dir), "--format", "jsonl", "--runs-from", "-"]).splitlines()
    assert [json.loads(line)["run"] for line in lines] == ["hf_01"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--runs-from", "/nonexistent/runs.txt"], "cannot read --runs-from /nonexistent/runs.txt"),
        (["--dask", "local:0"], "--dask local:N needs a positive number of workers"),
        (["--dask", "scheduler:8786"], "--dask must be local, local:N or a scheduler address"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
    ],
)
def test_bad_sweep_options_are_one_line_errors(
    sweep_dir: Path, argv: list[str], message: str
) -> None:
    code, out, err = run([str(sweep_dir), "--format", "jsonl", *argv])
    assert code == EXIT_USAGE
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_runs_matching_nothing_is_the_same_error(sweep_dir: Path) -> None:
    serial = run([str(sweep_dir), "--format", "json", "--runs", "nope*"])
    swept = run([str(sweep_dir), "--format", "jsonl", "--runs", "nope*"])
    assert serial[0] == swept[0] == EXIT_USAGE
    assert serial[2] == swept[2]
    assert swept[1] == ""


def test_dask_missing_names_the_extra(sweep_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails as if not installed
    code, _, err = run([str(sweep_dir), "--dask", "local:2"])
    assert code == EXIT_USAGE
    assert "pip install 'tbplateau[dask]'" in err


def test_missing_logdir_and_empty_logdir(tmp_path: Path) -> None:
    code, _, err = run([str(tmp_path / "nope"), "--format", "jsonl"])
    assert code == EXIT_USAGE
    assert "logdir does not exist" in err
    code, _, err = run([str(tmp_path), "--format", "jsonl"])
    assert code == EXIT_USAGE
    assert "no event files" in err


def test_a_task_that_raises_leaves_a_read_issue_and_exit_0(
    sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def flaky(runs: Any, **kwargs: Any) -> Any:
        if any(r.name == "hf_02" for r in runs):
            raise MemoryError("simulated")
        return real(runs, **kwargs)

    monkeypatch.setattr(_task, "analyze_runs", flaky)
    code, out, err = run([str(sweep_dir), "--format", "jsonl", "--workers", "1"])
    assert code == EXIT_OK, err
    got = {d["run"]: d for d in map(json.loads, out.splitlines())}
    serial = {d["run"]: d for d in json.loads(ok([str(sweep_dir), "--format", "json"]))["runs"]}
    assert set(got) == set(serial)
    bad = got.pop("hf_02")
    assert bad["read_issues"][-1]["problem"] == "unreadable"
    assert bad["read_issues"][-1]["message"] == "hf_02: analysis failed: MemoryError: simulated"
    assert all(got[n] == serial[n] for n in got)


def test_dask_local_binds_loopback_without_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class FakeCluster:
        def __init__(self, **kwargs: Any) -> None:
            seen.update(kwargs)

        def __enter__(self) -> FakeCluster:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    class FakeClient(FakeCluster):
        def __init__(self, cluster: object) -> None:
            pass

    class FakeDistributed:
        LocalCluster = FakeCluster
        Client = FakeClient

    monkeypatch.setattr(_clients, "_import_distributed", lambda: FakeDistributed)
    with _clients.dask_client("local:3") as client:
        assert isinstance(client, FakeClient)
    assert seen["host"] == "127.0.0.1"
    assert seen["dashboard_address"] is None
    assert seen["scheduler_kwargs"] == {"dashboard_address": "127.0.0.1:0"}
    assert seen["n_workers"] == 3
    assert seen["processes"] is True
