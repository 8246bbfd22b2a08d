"""The command line, called in-process."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tbplateau.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, main
from tests import helpers as h

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample"


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        argv,
        stdout=Console(file=out, width=120, color_system=None),
        stderr=Console(file=err, width=120, color_system=None),
    )
    return code, out.getvalue(), err.getvalue()


def test_ls_rich_lists_runs_tags_and_replaced_points() -> None:
    code, out, err = run(["ls", str(SAMPLE)])
    assert code == EXIT_OK, err
    assert "4 runs, 7 scalar series, 1,180 points, 0 read issues" in out
    for name in ("keras/train", "keras/validation", "resumed", "torch_lr_too_high"):
        assert f"run {name}" in out
    assert "train_loss  scalar     300  0..299        50" in out


def test_ls_json_is_complete(tmp_path: Path) -> None:
    h.write_events(
        tmp_path / "r" / "events.out.tfevents.1",
        [h.scalar("loss", s, 1.0) for s in range(5)] + [h.histogram("w", 0)],
    )
    (tmp_path / "r" / "events.out.tfevents.2").write_bytes(
        b"version https://git-lfs.github.com/spec/v1\n"
    )
    code, out, _ = run(["ls", str(tmp_path), "--format", "json"])
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["schema"] == "tbplateau.ls/1"
    (r,) = doc["runs"]
    assert r["run"] == "r"
    assert r["tags"] == [
        {
            "tag": "loss",
            "kind": "scalar",
            "encoding": "simple_value",
            "points": 5,
            "first_step": 0,
            "last_step": 4,
            "replaced_points": 0,
        },
        {"tag": "w", "kind": "histogram", "count": 1},
    ]
    assert [i["problem"] for i in r["read_issues"]] == ["not_event_file"]


def test_ls_shows_read_issues(tmp_path: Path) -> None:
    path = h.write_events(
        tmp_path / "events.out.tfevents.1", [h.scalar("loss", s, 1.0) for s in range(5)]
    )
    path.write_bytes(path.read_bytes()[:-3])
    code, out, _ = run(["ls", str(tmp_path)])
    assert code == EXIT_OK
    assert "1 read issues" in out
    assert "truncated: events.out.tfevents.1: record at offset" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["ls", "/definitely/not/here"],
            "tbplateau: error: logdir does not exist: /definitely/not/here",
        ),
        (["ls"], "the following arguments are required: LOGDIR"),
        (["frobnicate"], "invalid choice"),
        (["ls", ".", "--format", "xml"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str], message: str) -> None:
    code, out, err = run(argv)
    assert code == EXIT_USAGE
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_empty_logdir_exits_2(tmp_path: Path) -> None:
    code, _, err = run(["ls", str(tmp_path)])
    assert code == EXIT_USAGE
    assert f"no event files (*tfevents*) under {tmp_path}" in err


def test_no_command_prints_help() -> None:
    code, out, _ = run([])
    assert code == EXIT_USAGE
    assert "ls" in out


def test_python_dash_m_and_no_colour_when_piped() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tbplateau", "ls", str(SAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "run keras/train" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_color_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ls", str(SAMPLE), "--color", "always"]) == EXIT_OK
    assert "\x1b[" in capsys.readouterr().out
    assert main(["ls", str(SAMPLE), "--color", "never"]) == EXIT_OK
    assert "\x1b[" not in capsys.readouterr().out


FIXTURES = SAMPLE.parent


def _fixture_logdirs() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and any(p.rglob("*tfevents*")))


@pytest.mark.parametrize("name", _fixture_logdirs())
def test_ls_works_on_every_fixture(name: str) -> None:
    code, out, err = run(["ls", str(FIXTURES / name), "--format", "json"])
    assert code == EXIT_OK, err
    assert json.loads(out)["runs"]


def _sample_report(*extra: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(["report", str(SAMPLE), "--format", "json", *extra])
    return code, json.loads(out) if out else {}, err


def test_report_json_follows_the_schema_and_finds_the_sample_stories() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from importlib.resources import files

    code, doc, err = _sample_report()
    assert code == EXIT_OK, err
    schema = json.loads(files("tbplateau").joinpath("schema/report-1.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["schema"] == "tbplateau.report/1"
    assert doc["logdir"] == str(SAMPLE)
    runs = {r["run"]: r for r in doc["runs"]}
    (over,) = runs["keras/validation"]["findings"]
    assert over["kind"] == "overfitting"
    assert over["tags"] == ["epoch_loss", "epoch_loss"]
    assert over["detail"]["training_run"] == "keras/train"
    val_loss = next(s for s in runs["keras/validation"]["series"] if s["tag"] == "epoch_loss")
    assert over["start_step"] == val_loss["best_step"]
    torch = {s["tag"]: s for s in runs["torch_lr_too_high"]["series"]}
    kinds = {f["kind"]: f["start_step"] for f in torch["Loss/train"]["findings"]}
    assert kinds["nonfinite"] == 900
    assert 560 <= kinds["divergence"] <= 660  # the loss turns up at step 600
    assert torch["Loss/train"]["last_value"] is None  # NaN is written as null
    assert torch["lr"]["goal"] is None
    assert torch["lr"]["findings"] == []


def test_report_fail_on_exit_codes() -> None:
    assert _sample_report("--fail-on", "nonfinite")[0] == EXIT_FINDINGS
    assert _sample_report("--fail-on", "overfitting,plateau")[0] == EXIT_FINDINGS
    assert _sample_report("--fail-on", "nonfinite", "--runs", "^keras")[0] == EXIT_OK
    code, _, err = _sample_report("--fail-on", "stall")
    assert code == EXIT_USAGE
    assert "unknown kind 'stall'" in err


def test_report_filters_and_goal_override() -> None:
    _, doc, _ = _sample_report("--runs", "^keras/", "--tags", "loss")
    assert [r["run"] for r in doc["runs"]] == ["keras/train", "keras/validation"]
    assert {s["tag"] for r in doc["runs"] for s in r["series"]} == {"epoch_loss"}
    _, doc, _ = _sample_report("--goal", "lr=min", "--runs", "torch")
    (run_doc,) = doc["runs"]
    assert {s["tag"]: s["goal"] for s in run_doc["series"]} == {"Loss/train": "min", "lr": "min"}
    code, _, err = _sample_report("--runs", "(")
    assert code == EXIT_USAGE
    assert "bad --runs regex" in err


def test_report_rich_names_every_run_and_verdict() -> None:
    code, out, err = run(["report", str(SAMPLE)])
    assert code == EXIT_OK, err
    assert "4 runs, 7 series" in out
    assert "overfitting since epoch 37" in out
    assert "non-finite from step 900" in out
    assert "not judged (no goal)" in out


def test_progress_bar_goes_to_stderr_only_on_a_terminal() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["report", str(SAMPLE), "--format", "json"],
        stdout=Console(file=out, width=120, force_terminal=True),
        stderr=Console(file=err, width=120, force_terminal=True),
    )
    assert code == EXIT_OK
    assert json.loads(out.getvalue())["schema"] == "tbplateau.report/1"
    assert "\x1b[" in err.getvalue()  # the transient bar was drawn on stderr
