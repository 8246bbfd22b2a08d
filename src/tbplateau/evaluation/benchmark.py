"""Run tbplateau and every standard rule over labelled cases and tabulate the scores."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from tbplateau.analysis import analyze
from tbplateau.baselines import RULES
from tbplateau.evaluation.scoring import Prediction, Scores, score
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import FindingKind
from tbplateau.goals import resolve_goal
from tbplateau.pairing import pair_series

__all__ = ["OURS", "format_table", "load_fixture_cases", "predict", "run_benchmark"]

OURS = "tbplateau"


def predict(case: Case, system: str) -> Iterator[Prediction]:
    """Findings of ``system`` on a case: :data:`OURS` or a name in ``baselines.RULES``."""
    logdir = case.logdir
    if system == OURS:
        report = analyze(logdir)
        for run_report in report.runs:
            for series_report in run_report.series:
                for f in series_report.findings:
                    yield Prediction(case.name, run_report.run, f)
            for f in run_report.findings:
                yield Prediction(case.name, run_report.run, f)
        return
    where, rule = RULES[system]
    if where == "series":
        for run in logdir.runs:
            for s in run.series:
                goal = resolve_goal(s.tag)
                if goal is None and system != "first non-finite":
                    continue
                for f in rule(s, goal):
                    yield Prediction(case.name, run.name, f)
        return
    for pair in pair_series(logdir.runs):
        val = logdir[pair.validation_run][pair.validation_tag]
        train = logdir[pair.training_run][pair.training_tag]
        goal = resolve_goal(val.tag)
        for f in rule(val, goal, training=train):
            yield Prediction(case.name, pair.validation_run, f)


def run_benchmark(cases: Sequence[Case], systems: Sequence[str] | None = None) -> dict[str, Scores]:
    """Scores of every system (tbplateau first, then every standard rule)."""
    names = [OURS, *RULES] if systems is None else list(systems)
    return {name: score(cases, [p for c in cases for p in predict(c, name)]) for name in names}


def format_table(results: dict[str, Scores]) -> str:
    """Per-kind P/R/F1/median onset error of every system, macro F1, best rule per kind."""
    lines = [
        f"{'system':26s} {'kind':12s} {'TP':>4s} {'FP':>4s} {'FN':>4s} "
        f"{'P':>5s} {'R':>5s} {'F1':>5s} {'onset err':>9s}"
    ]
    for name, sc in results.items():
        for kind, k in sc.by_kind.items():
            err = "-" if k.median_onset_error is None else f"{k.median_onset_error:.1f}"
            lines.append(
                f"{name:26s} {kind.value:12s} {k.tp:4d} {k.fp:4d} {k.fn:4d} "
                f"{k.precision:5.2f} {k.recall:5.2f} {k.f1:5.2f} {err:>9s}"
            )
        lines.append(f"{name:26s} {'macro F1':12s} {sc.macro_f1:.3f}")
        lines.append("")
    rules = {n: s for n, s in results.items() if n != OURS}
    if rules and OURS in results:
        lines.append(f"{'kind':12s} {'tbplateau F1':>12s} {'best rule F1':>12s}  best rule")
        best_total = 0.0
        kinds = list(results[OURS].by_kind)
        for kind in kinds:
            name, sc = max(rules.items(), key=lambda kv: kv[1].by_kind[kind].f1)
            best = sc.by_kind[kind].f1
            best_total += best
            ours = results[OURS].by_kind[kind].f1
            lines.append(f"{kind.value:12s} {ours:12.2f} {best:12.2f}  {name if best > 0 else '-'}")
        lines.append(
            f"{'macro F1':12s} {results[OURS].macro_f1:12.3f} "
            f"{best_total / max(1, len(kinds)):12.3f}"
            "  (best standard rule per kind)"
        )
    return "\n".join(lines)


def load_fixture_cases(root: str | Path) -> list[Case]:
    """Cases from ``root/<name>/`` folders holding a logdir and a ``labels.json``.

    Needs :func:`tbplateau.reader.read_logdir`; returns ``[]`` when the reader or the
    fixtures are not there yet.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    try:
        from tbplateau.reader import read_logdir
    except ImportError:
        return []
    cases = []
    for folder in sorted(p for p in root.iterdir() if (p / "labels.json").is_file()):
        raw = json.loads((folder / "labels.json").read_text())
        items = raw["labels"] if isinstance(raw, dict) else raw
        labels = tuple(Label.from_dict(d) for d in items)
        logdir = read_logdir(folder)
        cases.append(Case(folder.name, logdir, labels, "fixture"))
    return cases


KINDS = tuple(FindingKind)
