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
    assert max(len(line) for line in out.splitlines()) <= 120


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
            "duplicate_points": 0,
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
    assert _sample_report("--fail-on", "nonfinite", "--runs", "keras/*")[0] == EXIT_OK
    code, _, err = _sample_report("--fail-on", "stall")
    assert code == EXIT_USAGE
    assert "unknown kind 'stall'" in err
    assert "non-finite" in err  # the choices, as the screen names them
    assert "flat line" in err


@pytest.mark.parametrize(
    ("words", "code"),
    [
        ("non-finite", EXIT_FINDINGS),
        ("Non-Finite", EXIT_FINDINGS),
        ("nonfinite", EXIT_FINDINGS),
        ("flat line", EXIT_OK),  # the sample has no constant stretch
        ("flatline,plateau:constant", EXIT_OK),
        ("plateau", EXIT_FINDINGS),
        ("any", EXIT_FINDINGS),
        ("divergence, overfitting", EXIT_FINDINGS),
    ],
)
def test_fail_on_accepts_the_screen_names(words: str, code: int) -> None:
    assert _sample_report("--fail-on", words)[0] == code


def test_fail_on_names_what_tripped_it_on_the_last_stderr_line() -> None:
    code, _, err = run(["report", str(SAMPLE), "--format", "json", "--fail-on", "non-finite"])
    assert code == EXIT_FINDINGS
    last = err.strip().splitlines()[-1]
    assert last.startswith("tbplateau: --fail-on non-finite: 1 finding:")
    assert "non-finite in torch_lr_too_high Loss/train at step 900" in last


def test_flat_line_fails_only_on_flat_lines() -> None:
    flat = str(FIXTURES / "keras_lr_zero_and_healthy")
    code, _, err = run(["report", flat, "--format", "json", "--fail-on", "flat line"])
    assert code == EXIT_FINDINGS
    assert "flat line in lr_zero/train" in err.splitlines()[-1]


def test_report_filters_and_goal_override() -> None:
    _, doc, _ = _sample_report("--runs", "keras/*", "--tags", "*loss*")
    assert [r["run"] for r in doc["runs"]] == ["keras/train", "keras/validation"]
    assert {s["tag"] for r in doc["runs"] for s in r["series"]} == {"epoch_loss"}
    _, doc, _ = _sample_report("--runs", "re:^keras/", "--tags", "re:loss")
    assert [r["run"] for r in doc["runs"]] == ["keras/train", "keras/validation"]
    _, doc, _ = _sample_report("--goal", "lr=min", "--runs", "torch*")
    (run_doc,) = doc["runs"]
    assert {s["tag"]: s["goal"] for s in run_doc["series"]} == {"Loss/train": "min", "lr": "min"}
    code, _, err = _sample_report("--runs", "re:(")
    assert code == EXIT_USAGE
    assert "bad regular expression 're:('" in err


@pytest.mark.parametrize(
    ("option", "pattern", "hint"),
    [
        ("--runs", "^keras/", "for a regular expression write 're:^keras/'"),
        ("--runs", "nothing*", "matches no run"),
        ("--tags", "loss", "'*loss*' matches it anywhere"),
        ("--goal", "bleu=max", "matches no tag"),
        ("--tags", "re:^bleu$", "matches no tag"),
    ],
)
def test_a_pattern_that_matches_nothing_is_an_error(option: str, pattern: str, hint: str) -> None:
    code, out, err = run(["report", str(SAMPLE), option, pattern])
    assert code == EXIT_USAGE
    assert out == ""
    (line,) = err.strip().splitlines()
    assert repr(pattern) in line
    assert hint in line


def test_a_bare_word_that_leaves_out_names_holding_it_says_so(tmp_path: Path) -> None:
    h.write_events(tmp_path / "a" / "events.out.tfevents.1", h.curve("loss", range(30)))
    h.write_events(tmp_path / "a" / "events.out.tfevents.2", h.curve("val_loss", range(30)))
    code, out, err = run(["report", str(tmp_path), "--tags", "loss", "--format", "json"])
    assert code == EXIT_OK
    assert [s["tag"] for s in json.loads(out)["runs"][0]["series"]] == ["loss"]
    (line,) = err.strip().splitlines()
    assert "--tags 'loss' matches whole names only; 1 other name contains it" in line
    code, _, err = run(["report", str(tmp_path), "--tags", "*loss", "--format", "json"])
    assert (code, err) == (EXIT_OK, "")


def test_one_pattern_language_for_the_library_goals() -> None:
    from tbplateau.goals import resolve_goal

    assert resolve_goal("Loss/train", ["re:^Loss/=max"]) == "max"
    assert resolve_goal("Loss/train", ["Loss/*=max"]) == "max"
    assert resolve_goal("Loss/train", ["Loss=max"]) == "min"  # a glob matches the whole name


def test_help_shows_examples_exit_codes_and_the_pattern_language() -> None:
    code, out, _ = run(["report", "--help"])
    assert code == EXIT_OK
    for needle in ("examples:", "exit codes:", "--fail-on", "flat line", "re:", "--format html"):
        assert needle in out
    code, out, _ = run(["ls", "--help"])
    assert code == EXIT_OK
    assert "exit codes:" in out


@pytest.mark.parametrize("command", [[], ["ls"], ["report"], ["watch"]])
def test_help_fits_80_columns(command: list[str]) -> None:
    env = {"COLUMNS": "80", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "tbplateau", *command, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert out.strip()
    wide = [line for line in out.splitlines() if len(line) > 80]
    assert not wide, wide


def test_report_rich_names_every_run_and_verdict() -> None:
    code, out, err = run(["report", str(SAMPLE)])
    assert code == EXIT_OK, err
    assert "4 runs, 7 series (6 judged)" in out
    assert "overfitting since epoch 37" in out
    assert "non-finite from step 900" in out
    assert "not judged: lr (the learning rate)" in out


def test_all_unfolds_the_rows_that_were_not_judged() -> None:
    _, folded, _ = run(["report", str(SAMPLE), "--runs", "torch*"])
    _, shown, _ = run(["report", str(SAMPLE), "--runs", "torch*", "--all"])
    assert "not judged: lr" in folded
    assert "  lr " not in folded
    assert "not judged (the learning rate)" in shown


@pytest.mark.parametrize("fmt", ["rich", "json", "markdown", "html"])
def test_output_file_for_every_format(tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"report.{fmt}"
    code, out, err = run(["report", str(SAMPLE), "--format", fmt, "-o", str(target)])
    assert code == EXIT_OK, err
    assert out == ""
    text = target.read_text(encoding="utf-8")
    assert ("torch\\_lr\\_too\\_high" if fmt == "markdown" else "torch_lr_too_high") in text
    assert "\x1b[" not in text
    if fmt == "json":
        assert json.loads(text)["schema"] == "tbplateau.report/1"
    if fmt == "html":
        assert text.startswith("<!DOCTYPE html>")


def test_ls_output_file(tmp_path: Path) -> None:
    for fmt in ("rich", "json"):
        target = tmp_path / f"ls.{fmt}"
        assert run(["ls", str(SAMPLE), "--format", fmt, "-o", str(target)])[0] == EXIT_OK
        assert "torch_lr_too_high" in target.read_text(encoding="utf-8")


def test_output_to_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run(["report", str(SAMPLE), "-o", str(tmp_path / "no" / "such" / "r.txt")])
    assert code == EXIT_USAGE
    assert "cannot write" in err


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


def test_the_progress_bar_moves_while_analysing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The analysis reports each group of runs to the bar (it no longer sits at 0/N)."""
    from tbplateau.cli import _common

    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(_common.Steps, "runs", lambda self, done, total: seen.append((done, total)))
    out, err = io.StringIO(), io.StringIO()
    main(
        ["report", str(SAMPLE), "--format", "json"],
        stdout=Console(file=out, width=120, force_terminal=True),
        stderr=Console(file=err, width=120, force_terminal=True),
    )
    assert seen[-1] == (4, 4)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) == 3  # keras/train and keras/validation are one group


def test_report_json_adds_verdicts_advice_summary_and_nonfinite_last_values() -> None:
    code, doc, _ = _sample_report()
    assert code == EXIT_OK
    summary = doc["summary"]
    assert summary["runs"] == 4
    assert summary["findings_by_label"] == {
        "non-finite": 1,
        "divergence": 1,
        "overfitting": 1,
        "plateau": 2,
    }
    assert summary["worst_runs"][0] == "torch_lr_too_high"
    torch = {
        s["tag"]: s for r in doc["runs"] if r["run"] == "torch_lr_too_high" for s in r["series"]
    }
    loss = torch["Loss/train"]
    assert loss["last_value"] is None
    assert loss["last_value_nonfinite"] == "nan"
    assert loss["verdict"].startswith("non-finite from step 900")
    assert loss["advice"]["kind"] == "nonfinite"
    assert loss["advice"]["try"]
    assert torch["lr"]["verdict"] == "not judged (the learning rate)"
    assert torch["lr"]["judged"] == ["nonfinite"]
    assert torch["lr"]["advice"] is None


REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld"


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is absent")
def test_ls_fits_80_columns_on_real_logdirs() -> None:
    """TF Object Detection API tags are long and its eval files repeat steps (a ``dups``
    column): the table still fits 80 cells."""
    for logdir in sorted(p for p in REALWORLD.iterdir() if p.is_dir()):
        out = io.StringIO()
        main(["ls", str(logdir)], stdout=Console(file=out, width=80, color_system=None))
        wide = [line for line in out.getvalue().splitlines() if len(line) > 80]
        assert not wide, (logdir.name, wide[:3])
