"""``tbplateau watch``, called in-process (and once as a real process for signals)."""

from __future__ import annotations

import argparse
import io
import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from tbplateau.analysis import analyze
from tbplateau.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, _parser, main
from tbplateau.watch import Watcher
from tests.watch.growing import Growing
from tests.watch.receiver import SECRET, receiving

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SAMPLE = FIXTURES / "sample"


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(home))
    return home


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        argv,
        stdout=Console(file=out, width=120, color_system=None),
        stderr=Console(file=err, width=120, color_system=None),
    )
    return code, out.getvalue(), err.getvalue()


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _final(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Open and resolved alerts at the end of an event stream."""
    last: dict[str, dict[str, Any]] = {}
    for e in events:
        if e["id"] is not None:
            last[e["id"]] = e
    return sorted(
        (e["run"], tuple(e["tags"]), e["kind"], e["start_step"], e["end_step"])
        for e in last.values()
        if e["state"] in ("open", "resolved")
    )


def _report(root: Path) -> list[tuple[Any, ...]]:
    return sorted(
        (r.run, f.tags, f.kind.value, f.start_step, f.end_step)
        for r in analyze(root).runs
        for f in [*(g for s in r.series for g in s.findings), *r.findings]
    )


def test_once_in_jsonl_is_the_report(state_home: Path) -> None:
    code, out, err = run(["watch", str(SAMPLE), "--once", "--format", "jsonl"])
    assert code == EXIT_OK, err
    events = _lines(out)
    assert {e["schema"] for e in events} == {"tbplateau.watch/1"}
    assert all(e["existing"] and not e["notify"] for e in events)
    assert _final(events) == _report(SAMPLE)
    # the state went to the user's state directory, not into the logdir
    (state,) = (state_home / "tbplateau" / "watch").iterdir()
    assert state.name.startswith("sample-")
    assert not [p for p in SAMPLE.rglob("*") if "state" in p.name]
    code, out, _ = run(["watch", str(SAMPLE), "--once", "--format", "jsonl"])
    assert (code, out) == (EXIT_OK, "")  # restarted: nothing is said twice


def test_fail_on_counts_open_alerts() -> None:
    argv = ["watch", str(SAMPLE), "--once", "--state", "none", "--format", "jsonl"]
    assert run([*argv, "--fail-on", "nonfinite"])[0] == EXIT_FINDINGS
    assert run([*argv, "--fail-on", "oscillation"])[0] == EXIT_OK


@pytest.mark.parametrize(
    "words",
    [
        "non-finite",
        "Non-Finite",
        "nan",
        "flat line",
        "flatline,plateau:constant",
        "plateau",
        "oscillation",
        "any",
        "divergence, overfitting",
    ],
)
@pytest.mark.parametrize("logdir", [SAMPLE, FIXTURES / "keras_lr_zero_and_healthy"], ids=str)
def test_fail_on_once_agrees_with_report(words: str, logdir: Path) -> None:
    """The same words, the same exit code and the same last line of stderr."""
    argv = [str(logdir), "--fail-on", words]
    code, _, err = run(["watch", *argv, "--once", "--state", "none", "--format", "jsonl"])
    want, _, report_err = run(["report", *argv, "--format", "json"])
    assert code == want
    if want == EXIT_FINDINGS:
        assert err.strip().splitlines()[-1] == report_err.strip().splitlines()[-1]
    else:
        assert err == report_err == ""


def test_flat_line_trips_only_on_a_constant_plateau(tmp_path: Path) -> None:
    argv = ["watch", "--once", "--state", "none", "--format", "jsonl"]
    # the sample's plateaus are not constant
    assert run([*argv, str(SAMPLE), "--fail-on", "plateau"])[0] == EXIT_FINDINGS
    assert run([*argv, str(SAMPLE), "--fail-on", "flat line"])[0] == EXIT_OK
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", [*np.linspace(1, 0.5, 40), *[0.5] * 60], 0)
    code, out, err = run([*argv, str(tmp_path / "logs"), "--fail-on", "flat line"])
    assert code == EXIT_FINDINGS
    assert [(e["kind"], e["tags"]) for e in _lines(out)] == [("plateau", ["loss"])]
    # the constant stretch starts at step 39, the last point of the decline (0.5)
    assert err.splitlines()[-1] == (
        "tbplateau: --fail-on flat line: 1 finding: flat line in r loss at step 39"
    )


def test_fail_on_stops_at_the_first_such_alert(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", np.linspace(1, 0.5, 50), 0)
    log.scalars("r", "gnorm", [float("nan")], 50)
    code, out, err = run(
        [
            "watch",
            str(tmp_path / "logs"),
            "--fail-on",
            "nonfinite,divergence",
            "--interval",
            "0.01",
            "--max-polls",
            "50",
            "--format",
            "jsonl",
        ]
    )
    assert code == EXIT_FINDINGS
    assert [e["kind"] for e in _lines(out)] == ["nonfinite"]
    assert err.splitlines()[-1] == (
        "tbplateau: --fail-on nonfinite,divergence: 1 finding: non-finite in r gnorm at step 50"
    )


def test_max_polls_on_a_quiet_logdir(tmp_path: Path, state_home: Path) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", np.linspace(1, 0.5, 50), 0)
    code, out, err = run(
        [
            "watch",
            str(tmp_path / "logs"),
            "--max-polls",
            "3",
            "--interval",
            "0.01",
            "--state",
            str(tmp_path / "s.json"),
        ]
    )
    assert (code, out, err) == (EXIT_OK, "", "")
    assert json.loads((tmp_path / "s.json").read_text())["alerts"] == []
    assert not (state_home / "tbplateau").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--interval", "0"], "--interval must be positive"),
        (["--max-polls", "0"], "--max-polls must be at least 1"),
        (["--confirm", "0"], "--confirm must be at least 1"),
        (["--fail-on", "stall"], "unknown kind 'stall' (choose from non-finite, "),
        (["--runs", "re:("], "bad regular expression 're:('"),
        (["--tags", "re:("], "bad regular expression 're:('"),
        (["--goal", "loss=up"], "goal"),
        (["--notify", f"ftp://hooks.example/{SECRET}"], "needs an http:// or https:// URL"),
        (["--notify", "env:TBPLATEAU_TEST_UNSET"], "TBPLATEAU_TEST_UNSET is not set"),
        (["--exec", "a 'b"], "cannot split"),
    ],
)
def test_usage_errors(extra: list[str], message: str) -> None:
    code, out, err = run(["watch", str(SAMPLE), "--once", *extra])
    assert code == EXIT_USAGE
    assert message in err
    assert err.count("\n") == 1
    assert SECRET not in err + out


def test_the_shared_options_are_reports() -> None:
    """--runs, --tags, --goal, --fail-on and --color: one definition, one help text."""
    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    commands = subparsers.choices

    def options(command: str) -> dict[str, tuple[Any, ...]]:
        return {
            a.option_strings[-1]: (a.help, a.metavar, a.choices, a.default, a.nargs)
            for a in commands[command]._actions
            if a.option_strings
        }

    watch, report = options("watch"), options("report")
    for option in ("--runs", "--tags", "--goal", "--fail-on", "--color"):
        assert watch[option] == report[option], option
    code, out, _ = run(["watch", "--help"])
    assert code == EXIT_OK
    for needle in ("re:", "flat line", "examples:", "exit codes:", "matches nothing", "--once"):
        assert needle in out


@pytest.mark.parametrize(
    ("option", "pattern"),
    [
        ("--runs", "^keras/"),
        ("--runs", "nothing*"),
        ("--tags", "loss"),
        ("--goal", "bleu=max"),
        ("--tags", "re:^bleu$"),
    ],
)
def test_once_a_pattern_that_matches_nothing_is_reports_error(
    option: str, pattern: str, tmp_path: Path
) -> None:
    state = tmp_path / "s.json"
    code, out, err = run(["watch", str(SAMPLE), "--once", "--state", str(state), option, pattern])
    assert (code, out) == (EXIT_USAGE, "")
    _, _, report_err = run(["report", str(SAMPLE), option, pattern])
    assert err == report_err.replace("tbplateau report:", "tbplateau watch:")
    assert not state.exists()  # nothing was kept: fixing the pattern shows everything


def test_live_a_pattern_that_matches_nothing_is_a_warning_once_data_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Growing(tmp_path / "logs")
    real = Watcher.poll
    calls = []

    def poll(self: Watcher, *, final: bool = False, strict: bool = False) -> Any:
        calls.append(1)
        if len(calls) == 3:  # the run starts writing after two polls of an empty logdir
            log.scalars("r", "loss", [float("nan")] * 5, 0)
        return real(self, final=final, strict=strict)

    monkeypatch.setattr(Watcher, "poll", poll)
    argv = ["watch", str(tmp_path / "logs"), "--interval", "0.01", "--state", "none"]
    code, out, err = run([*argv, "--max-polls", "5", "--format", "jsonl", "--runs", "x*"])
    assert (code, out) == (EXIT_OK, "")
    (line,) = err.splitlines()
    assert line == (
        "tbplateau watch: warning: --runs 'x*' matches no run (there are: r); "
        "watching on, in case it appears"
    )
    calls.clear()
    code, out, err = run([*argv, "--max-polls", "2", "--tags", "loss", "--goal", "acc=max"])
    assert code == EXIT_OK
    assert "opened    non-finite  run r  loss" in out
    assert err.splitlines() == [
        "tbplateau watch: warning: --goal 'acc=max' matches no tag (there are: loss); "
        "a glob must match the whole name: '*acc=max*' matches it anywhere; watching on, "
        "in case it appears"
    ]


def test_a_bare_word_that_leaves_out_names_holding_it_says_so(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", [float("nan")] * 5, 0)
    log.scalars("r", "val_loss", [float("nan")] * 5, 0)
    code, out, err = run(
        ["watch", str(tmp_path / "logs"), "--once", "--state", "none", "--tags", "loss"]
    )
    assert code == EXIT_OK
    assert "run r  loss  step 0" in out
    assert "val_loss" not in out
    (line,) = err.splitlines()
    assert line.startswith(
        "tbplateau watch: note: --tags 'loss' matches whole names only; 1 other name contains it"
    )


def test_the_state_is_never_inside_the_logdir(tmp_path: Path) -> None:
    code, _, err = run(["watch", str(SAMPLE), "--once", "--state", str(SAMPLE / "w.json")])
    assert code == EXIT_USAGE
    assert "inside the logdir" in err
    assert not (SAMPLE / "w.json").exists()


def test_a_missing_logdir() -> None:
    code, _, err = run(["watch", "/nonexistent/logs", "--once"])
    assert code == EXIT_USAGE
    assert "logdir does not exist" in err


def test_hostile_names_reach_the_terminal_as_text(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r\x1b]0;pwned\x07", "loss\x1b[2J", [float("nan")] * 5, 0)
    code, out, _ = run(["watch", str(tmp_path / "logs"), "--once", "--state", "none"])
    assert code == EXIT_OK
    assert "\x1b" not in out
    assert "\x07" not in out
    assert "r\\x1b]0;pwned\\x07" in out
    assert "loss\\x1b[2J" in out


def test_notify_sends_only_new_alerts_unless_asked(tmp_path: Path) -> None:
    state = str(tmp_path / "s.json")
    with receiving() as r:
        code, out, err = run(["watch", str(SAMPLE), "--once", "--state", state, "--notify", r.url])
        assert code == EXIT_OK
        assert r.bodies == []
        code, out, err = run(
            [
                "watch",
                str(SAMPLE),
                "--once",
                "--state",
                "none",
                "--notify",
                r.url,
                "--notify-existing",
            ]
        )
    assert code == EXIT_OK, err
    kinds = sorted(b["tbplateau"]["kind"] for b in r.bodies)
    assert kinds == sorted(k[2] for k in _report(SAMPLE))
    nonfinite = next(b for b in r.bodies if b["tbplateau"]["kind"] == "nonfinite")
    assert nonfinite["text"].startswith("tbplateau: *non-finite values* in run `torch_lr_too_high`")
    assert "Try: " in nonfinite["text"]
    assert SECRET not in out + err


def test_an_alert_not_delivered_is_offered_again_on_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = str(tmp_path / "s.json")
    argv = [
        "watch",
        str(SAMPLE),
        "--once",
        "--state",
        state,
        "--notify",
        "env:HOOK",
        "--notify-existing",
        "--notify-retries",
        "0",
        "--format",
        "jsonl",
    ]
    n = len(list(analyze(SAMPLE).findings()))  # one alert per finding of the report
    assert n >= 4
    with receiving([500] * n) as r:
        monkeypatch.setenv("HOOK", r.url)
        code, out, err = run(argv)
    assert code == EXIT_OK
    assert len(r.bodies) == n
    assert err.count("answered HTTP 500") == n
    assert "the webhook from $HOOK" in err
    assert SECRET not in err
    with receiving() as r:
        monkeypatch.setenv("HOOK", r.url)
        code, out, err = run(argv)
        assert code == EXIT_OK
        assert out == ""
        assert len(r.bodies) == n  # ... but the undelivered alerts are sent now
        code, out, err = run(argv)
        assert len(r.bodies) == n  # and only once


def test_exec_runs_on_new_alerts(tmp_path: Path) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", np.linspace(1, 0.5, 50), 0)
    marker = tmp_path / "marker"
    script = tmp_path / "hook.py"
    script.write_text(
        "import os, sys\n"
        "open(sys.argv[1], 'a').write(os.environ['TBPLATEAU_KIND'] + ' '"
        " + os.environ['TBPLATEAU_RUN'] + '\\n')\n"
    )
    argv = [
        "watch",
        str(tmp_path / "logs"),
        "--state",
        str(tmp_path / "s.json"),
        "--exec",
        f"{sys.executable} {script} {marker}",
        "--once",
        "--format",
        "jsonl",
    ]
    assert run(argv)[0] == EXIT_OK
    assert not marker.exists()
    log.scalars("r", "loss", [float("nan")] * 3, 50)
    code, _out, err = run(argv)
    assert code == EXIT_OK, err
    assert marker.read_text() == "nonfinite r\n"


def test_ctrl_c_exits_0_with_a_consistent_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = Growing(tmp_path / "logs")
    values = np.linspace(1, 0.5, 60)
    values[40:] = np.nan
    log.scalars("r", "loss", values, 0)
    real = Watcher.poll
    calls = []

    def poll(self: Watcher, *, final: bool = False, strict: bool = False) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, final=final, strict=strict)

    monkeypatch.setattr(Watcher, "poll", poll)
    state = tmp_path / "s.json"
    code, out, err = run(
        [
            "watch",
            str(tmp_path / "logs"),
            "--interval",
            "0.01",
            "--state",
            str(state),
            "--format",
            "jsonl",
        ]
    )
    assert (code, err) == (EXIT_OK, "")
    assert [e["kind"] for e in _lines(out)] == ["nonfinite"]
    doc = json.loads(state.read_text())
    assert [a["state"] for a in doc["alerts"]] == ["open"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_real_process_stops_cleanly_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", [float("nan")] * 5, 0)
    state = tmp_path / "s.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tbplateau",
            "watch",
            str(tmp_path / "logs"),
            "--interval",
            "0.05",
            "--format",
            "jsonl",
            "--state",
            str(state),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], 60)
            assert ready, "no output from tbplateau watch"
            first = json.loads(proc.stdout.readline())
            assert first["kind"] == "nonfinite"
            proc.send_signal(sig)
            _, errors = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, errors
    doc = json.loads(state.read_text())
    assert [a["id"] for a in doc["alerts"]] == [first["id"]]


def test_a_state_that_cannot_be_saved_is_said_once_and_the_watch_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    log = Growing(tmp_path / "logs")
    log.scalars("r", "loss", [float("nan")] * 5, 0)
    code, out, err = run(
        [
            "watch",
            str(tmp_path / "logs"),
            "--max-polls",
            "3",
            "--interval",
            "0.01",
            "--state",
            str(blocker / "s.json"),
            "--format",
            "jsonl",
        ]
    )
    assert code == EXIT_OK
    assert [e["kind"] for e in _lines(out)] == ["nonfinite"]
    assert err.count("cannot save the state file") == 1
    assert "the watch goes on" in err
