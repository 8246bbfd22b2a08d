"""One selection of runs and series for ``report``, ``watch`` and the Watcher."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind
from tbplateau.reader.model import Logdir, Run
from tbplateau.report import Report, RunReport
from tbplateau.selection import Selection, Unmatched
from tbplateau.series import Series


def _logdir(runs: dict[str, list[str]]) -> Logdir:
    def series(run: str, tag: str) -> Series:
        return Series(run, tag, steps=np.arange(3), values=np.ones(3))

    return Logdir(
        "logs",
        tuple(Run(name, (), tuple(series(name, t) for t in tags)) for name, tags in runs.items()),
    )


def test_patterns_are_the_pattern_language_or_a_compiled_regex() -> None:
    s = Selection(runs="keras/*", tags="re:loss$")
    assert [s.run_ok(n) for n in ("keras/train", "keras", "torch")] == [True, False, False]
    assert [s.tag_ok(t) for t in ("val_loss", "loss/x")] == [True, False]
    s = Selection(runs=re.compile("^ke"), tags=re.compile("LOSS", re.I))
    assert (s.run_ok("keras/train"), s.run_ok("a/keras"), s.tag_ok("val_loss")) == (
        True,
        False,
        True,
    )
    assert (s.runs_pattern, s.tags_pattern) == ("re:^ke", "re:LOSS")
    everything = Selection()
    assert not everything.narrows
    assert (everything.run_ok("any"), everything.tag_ok("any")) == (True, True)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"runs": "re:("}, "bad regular expression 're:('"),
        ({"tags": "re:[a"}, "bad regular expression 're:[a'"),
        ({"goals": ["loss=up"]}, "goal override must look like TAG_PATTERN=min|max|none"),
        ({"goals": ["re:(=max"]}, "bad regular expression 're:('"),
    ],
)
def test_a_bad_pattern_is_an_error_naming_it(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        Selection(**kwargs)  # type: ignore[arg-type]


def test_a_finding_is_selected_when_any_of_its_tags_is() -> None:
    s = Selection(tags="val_*")
    overfit = Finding(FindingKind.OVERFITTING, 5, None, ("val_loss", "loss"), 0.9)
    plateau = Finding(FindingKind.PLATEAU, 5, None, ("loss",), 0.9)
    assert (s.finding_ok(overfit), s.finding_ok(plateau)) == (True, False)


def test_the_runs_to_read_keep_train_validation_groups_whole() -> None:
    names = ["keras/train", "keras/validation", "torch", "b/Loss_train", "b/Loss_val"]
    assert Selection(runs="*validation").runs_to_read(names) == {"keras/train", "keras/validation"}
    assert Selection(runs="torch").runs_to_read(names) == {"torch"}
    assert Selection(tags="loss").runs_to_read(names) == set(names)


def test_unmatched_names_each_pattern_that_matches_nothing() -> None:
    logdir = _logdir({"a": ["loss", "acc"], "b": ["bleu"]})
    assert Selection(runs="*", tags="*", goals=["acc=max"]).unmatched(logdir) == []
    # a --runs that matches nothing is all that is said
    assert Selection(runs="x", tags="x").unmatched(logdir) == [
        Unmatched("--runs", "x", "run", ("a", "b"))
    ]
    # tags and goals are matched against the tags of the selected runs
    found = Selection(runs="a", tags="bleu", goals=["bleu=max", ("acc", "max")]).unmatched(logdir)
    assert found == [
        Unmatched("--tags", "bleu", "tag", ("acc", "loss")),
        Unmatched("--goal", "bleu=max", "tag", ("acc", "loss")),
    ]
    assert Selection(goals=[("x*", None)]).unmatched(logdir)[0].pattern == "x*=none"
    assert Selection(runs="x").unmatched(_logdir({})) == [Unmatched("--runs", "x", "run", ())]


@pytest.mark.parametrize(
    ("unmatched", "message"),
    [
        (
            Unmatched("--runs", "^ke", "run", ("a",)),
            "--runs '^ke' matches no run (there are: a); patterns are globs: for a regular "
            "expression write 're:^ke'",
        ),
        (
            Unmatched("--tags", "loss", "tag", tuple("abcdef")),
            "--tags 'loss' matches no tag (there are: a, b, c, d, e, ...); a glob must match "
            "the whole name: '*loss*' matches it anywhere",
        ),
        (
            Unmatched("--tags", "re:x", "tag", ("a\x1b[2J",)),
            "--tags 're:x' matches no tag (there are: a\\x1b[2J)",
        ),
    ],
)
def test_an_unmatched_pattern_says_why_in_one_line(unmatched: Unmatched, message: str) -> None:
    assert unmatched.message() == message


def test_notes_name_bare_words_that_leave_out_names_holding_them() -> None:
    logdir = _logdir({"a": ["loss", "val_loss", "acc"]})
    assert Selection(tags="loss").notes(logdir) == [
        "note: --tags 'loss' matches whole names only; 1 other name contains it "
        "('*loss*' or 're:loss' selects them too)"
    ]
    assert Selection(tags="*loss").notes(logdir) == []
    assert Selection(tags="re:loss").notes(logdir) == []


def test_filter_keeps_the_selected_runs_series_and_findings(tmp_path: Path) -> None:
    from tbplateau.analysis import analyze
    from tests import helpers as h

    for run in ("a", "b"):
        h.write_events(tmp_path / run / "events.out.tfevents.1", h.curve("loss", range(30)))
        h.write_events(tmp_path / run / "events.out.tfevents.2", h.curve("acc", range(30)))
    report = analyze(tmp_path)
    assert Selection().filter(report) is report
    kept = Selection(runs="a", tags="acc").filter(report)
    assert [(r.run, [s.tag for s in r.series]) for r in kept.runs] == [("a", ["acc"])]
    overfit = Finding(FindingKind.OVERFITTING, 5, None, ("val_loss", "loss"), 0.9)
    both = Report("logs", (RunReport("r", (), (), (overfit,)),))
    assert Selection(tags="loss").filter(both).runs[0].findings == (overfit,)
    assert Selection(tags="acc").filter(both).runs[0].findings == ()
