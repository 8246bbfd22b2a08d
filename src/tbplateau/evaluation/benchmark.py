"""Run tbplateau and every standard rule over labelled cases and tabulate the scores."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from tbplateau.analysis import analyze
from tbplateau.baselines import RULES
from tbplateau.evaluation.evalset import findings_from_document
from tbplateau.evaluation.scoring import KindScore, Prediction, Scores, reliability, score
from tbplateau.evaluation.synthetic import Case, Label
from tbplateau.findings import FindingKind
from tbplateau.goals import resolve_goal
from tbplateau.pairing import pair_series

__all__ = [
    "OURS",
    "format_cases",
    "format_group",
    "format_reliability",
    "format_table",
    "load_fixture_cases",
    "predict",
    "predict_all",
    "run_benchmark",
]

OURS = "tbplateau"


def predict(case: Case, system: str) -> Iterator[Prediction]:
    """Findings of ``system`` on a case: :data:`OURS` or a name in ``baselines.RULES``.

    tbplateau's findings are read from its public JSON document
    (``analyze(...).to_dict()``, the same as ``tbplateau report DIR --format json``).
    """
    logdir = case.logdir
    if system == OURS:
        doc = json.loads(json.dumps(analyze(logdir).to_dict(), allow_nan=False))
        for run_name, f in findings_from_document(doc):
            yield Prediction(case.name, run_name, f)
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


def predict_all(
    cases: Sequence[Case], systems: Sequence[str] | None = None
) -> dict[str, list[Prediction]]:
    """Every system's findings on every case (tbplateau first, then every standard rule)."""
    names = [OURS, *RULES] if systems is None else list(systems)
    return {name: [p for c in cases for p in predict(c, name)] for name in names}


def _kind_line(label: str, k: KindScore) -> str:
    err = "-" if k.median_onset_error is None else f"{k.median_onset_error:.1f}"
    return (
        f"  {label:12s} {k.tp:4d} {k.fp:4d} {k.fn:4d} {k.precision:5.2f} {k.recall:5.2f} "
        f"{k.f1:5.2f} {err:>6s}"
    )


def format_group(
    title: str,
    cases: Sequence[Case],
    preds: dict[str, list[Prediction]],
    kinds: Sequence[FindingKind] = KINDS,
) -> str:
    """tbplateau's P/R/F1/onset error per kind on ``cases``, each rule's F1 beside it."""
    results = {name: score(cases, p, kinds=kinds) for name, p in preds.items()}
    labels = sum(1 for c in cases for lb in c.labels if lb.kind in kinds)
    lines = [f"{title}: {len(cases)} cases, {labels} labels"]
    if OURS in results:
        ours = results[OURS]
        lines.append(
            f"  {'kind':12s} {'TP':>4s} {'FP':>4s} {'FN':>4s} {'P':>5s} {'R':>5s} "
            f"{'F1':>5s} {'onset':>6s}   best rule F1"
        )
        rules = {n: r for n, r in results.items() if n != OURS}
        for kind in kinds:
            line = _kind_line(kind.value, ours.by_kind[kind])
            if rules:
                name, best = max(rules.items(), key=lambda kv: kv[1].by_kind[kind].f1)
                f1 = best.by_kind[kind].f1
                line += f"   {f1:4.2f} {name if f1 > 0 else '-'}"
            lines.append(line)
        lines.append(
            f"  {'macro F1':12s} {ours.macro_f1:.3f}   ({ours.unscored} findings on "
            "series not fully labelled, unscored)"
        )
    rule_names = [n for n in results if n != OURS]
    if rule_names:
        head = " ".join(f"{k.value[:11]:>11s}" for k in kinds)
        lines.append(f"  {'F1 by system':28s} {head} {'macro':>6s}")
        for name in [OURS, *rule_names] if OURS in results else rule_names:
            r = results[name]
            row = " ".join(f"{r.by_kind[k].f1:11.2f}" for k in kinds)
            lines.append(f"  {name:28s} {row} {r.macro_f1:6.3f}")
    return "\n".join(lines)


def format_reliability(cases: Sequence[Case], preds: Sequence[Prediction]) -> str:
    """Scored findings bucketed by confidence; ``!`` marks a bucket off by more than 0.1."""
    sc = score(cases, preds)
    lines = ["  confidence     findings  matched  share  mean conf"]
    for b in reliability(sc.judged):
        share = "-" if b.share is None else f"{b.share:.2f}"
        mean = "-" if b.mean_confidence is None else f"{b.mean_confidence:.2f}"
        close = "]" if b.hi == 1.0 else ")"
        flag = "  ! off by more than 0.1" if b.off else ""
        lines.append(
            f"  [{b.lo:.1f}, {b.hi:.1f}{close}   {b.count:8d} {b.matched:8d} {share:>6s} "
            f"{mean:>10s}"
            f"{flag}"
        )
    return "\n".join(lines)


def format_cases(cases: Sequence[Case], preds: Sequence[Prediction]) -> str:
    """Per case: each label and whether a finding matched it, and every unmatched finding."""
    by_case: dict[str, list[Prediction]] = {}
    for p in preds:
        by_case.setdefault(p.case, []).append(p)
    lines = []
    for case in cases:
        lines.append(f"{case.name} [{case.source}, {case.split}]")
        for lb in case.labels:
            lines.append(
                f"  label   {lb.kind.value:11s} {lb.run}/{lb.tags[0]} @ {lb.start_step}"
                f"{'' if lb.onset_range is None else f' {list(lb.onset_range)}'}"
            )
        for p in by_case.get(case.name, []):
            f = p.finding
            lines.append(
                f"  found   {f.kind.value:11s} {p.run}/{f.tags[0] if f.tags else ''} @ "
                f"{f.start_step} conf {f.confidence:.2f}"
            )
    return "\n".join(lines)
