"""The report for a terminal, as a rich renderable.

The summary first (runs, judged series, findings by kind, the worst runs; for a sweep
a table of runs x kinds), then each run, worst first: its read issues, a table of its
series (tag, last value, the curve with the findings marked, the verdict; with more
columns on wider terminals), the tags that were not judged in one line, its notes,
and one advice per series. Rows of series that were not judged are folded into that
one line unless ``show_all``.

Columns follow the console's width (80 columns and up): tags are cut in the middle
with an ellipsis (the advice names them in full), verdicts and advice wrap at word
boundaries, and no line is padded to the full width. Every name from the logs goes
through :func:`tbplateau.escape.terminal`. Sparklines are drawn in ASCII when the
console cannot encode Unicode.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.console import Console, ConsoleOptions, RenderResult

from tbplateau import escape
from tbplateau.explain import Advice, ReportView, RunView, SeriesView, fmt, fmt_best
from tbplateau.explain.text import join_words, plural
from tbplateau.findings import FindingKind
from tbplateau.render.layout import Column, Line, cells, plain, rows, segments, width_of, wrap
from tbplateau.render.sparkline import KIND_STYLE, Sparkline
from tbplateau.report import KIND_ORDER

__all__ = ["LEGEND", "TerminalReport", "sparkline_width"]

LEGEND = (
    ("P", "plateau", "yellow"),
    ("F", "flat line", "yellow"),
    ("D", "divergence", "red"),
    ("N", "non-finite", "bold red"),
    ("O", "overfitting", "magenta"),
    ("S", "oscillation", "cyan"),
)
LABEL_STYLE = {label: style for _, label, style in LEGEND}
SWEEP_ROWS = 20
"""Runs listed in a sweep's runs x kinds table (the worst ones)."""
_LONG = 1_000_000
"""Escape limit for whole sentences (names inside are already cut)."""
_DIM_STATES = ("not judged", "partly judged", "twin", "short", "steady")


def sparkline_width(console_width: int) -> int:
    """16 characters below 110 columns, 24 below 150, else 32."""
    if console_width < 110:
        return 16
    return 24 if console_width < 150 else 32


def _ascii_only(options: ConsoleOptions) -> bool:
    return options.legacy_windows or not options.encoding.lower().startswith("utf")


def _kind_style(kind: FindingKind | None, state: str) -> str:
    if kind is not None:
        return KIND_STYLE[kind]
    if state in _DIM_STATES:
        return "dim"
    return "green" if state in ("improving", "solved", "fits") else "yellow"


def name(text: str, width: int | None = None) -> str:
    """A name from the logs made safe for a terminal, cut in the middle to ``width``
    terminal cells."""
    safe = escape.terminal(text)
    if width is None:
        return safe
    width = max(1, width)
    short = escape.shorten(safe, width)
    while cells(short) > width:  # wide characters: cut further
        width -= 1
        short = escape.shorten(safe, max(1, width))
    return short


class TerminalReport:
    """A rich renderable of a :class:`~tbplateau.explain.model.ReportView`."""

    def __init__(self, view: ReportView, *, show_all: bool = False) -> None:
        self.view = view
        self.show_all = show_all

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        # finished segments: rich only writes them (no re-measuring, no re-wrapping)
        yield from segments(self.lines(options.max_width, ascii_only=_ascii_only(options)))

    def lines(self, width: int, *, ascii_only: bool = False) -> list[Line]:
        """The report's lines at ``width`` columns (at least 40)."""
        width = max(40, width)
        lines: list[Line] = [*self._summary(width)]
        if self.view.sweep:
            lines.extend(self._sweep_table(width))
        previous: list[str | None] = [None]
        for run in self.view.runs:
            lines.append([])
            lines.extend(_RunLayout(run, width, ascii_only, self.show_all, previous).lines())
        return lines

    def plain(self, width: int, *, ascii_only: bool = False) -> str:
        """The report as plain text (what a console without colour prints), fast."""
        return "".join(plain(line) + "\n" for line in self.lines(width, ascii_only=ascii_only))

    # -- the summary -----------------------------------------------------------------

    def _summary(self, width: int) -> Iterator[Line]:
        v = self.view
        s = v.summary
        yield [("tbplateau report ", "bold"), (name(v.logdir, width - 17), "bold cyan")]
        spans: list[tuple[str, str]] = [
            (f"{plural(len(v.runs), 'run')}, ", ""),
            (f"{v.series:,} series ({s.get('judged_series', v.series):,} judged), ", ""),
            (
                f"{plural(v.findings, 'finding')}",
                "bold yellow" if v.findings else "green",
            ),
        ]
        if v.kinds:
            spans.append((": ", ""))
            for i, (label, n) in enumerate(v.kinds):
                spans.append((f"{', ' if i else ''}", ""))
                spans.append((f"{n:,} {label}", LABEL_STYLE.get(label, "")))
        spans.append(("; ", ""))
        spans.append(
            (plural(v.read_issues, "read issue"), "bold red" if v.read_issues else "green")
        )
        yield from wrap(spans, width)
        if v.states:
            states = ", ".join(f"{n:,} {words}" for words, n in v.states)
            yield from wrap([("series states: ", "bold"), (states, "")], width)
        ranked = sorted(
            (r for r in v.runs if r.findings), key=lambda r: (r.severity[0], -r.severity[1])
        )
        worst = ranked[:3]
        if worst and len(v.runs) > 1:
            parts: list[tuple[str, str]] = [("worst first: ", "bold")]
            for i, r in enumerate(worst):
                parts.append((", " if i else "", ""))
                parts.append((name(r.run, 40), "cyan"))
                parts.append((f" ({_run_kinds(r)})", ""))
            more = sum(1 for r in v.runs if r.findings) - len(worst)
            if more > 0:
                parts.append((f", and {more:,} more with findings", ""))
            yield from wrap(parts, width)
        if v.has_curves:
            legend: list[tuple[str, str]] = [("marks under a curve: ", "dim")]
            for i, (letter, label, style) in enumerate(LEGEND):
                legend.append((", " if i else "", "dim"))
                legend.append((letter, f"bold {style}"))
                legend.append((f" {label}", "dim"))
            yield from wrap(legend, width)
        elif any(r.series for r in v.runs):
            yield [("(curves not available: no sparklines or replays)", "dim")]

    def _sweep_table(self, width: int) -> Iterator[Line]:
        """Runs x kinds: the worst runs (at most :data:`SWEEP_ROWS`) and their findings."""
        v = self.view
        labels = [k for k in KIND_ORDER if any(k == label for label, _ in v.kinds)]
        with_findings = sorted(
            (r for r in v.runs if r.findings), key=lambda r: (r.severity[0], -r.severity[1])
        )
        if not labels or not with_findings:
            return
        counts_width = sum(max(3, len(k)) + 1 for k in labels)
        run_width = max(10, min(48, width - 2 - counts_width - 1))
        shown = with_findings[:SWEEP_ROWS]
        run_width = min(run_width, max(3, *(cells(name(r.run)) for r in shown)))
        columns = [Column("run", run_width)] + [
            Column(k, max(3, len(k)), right=True) for k in labels
        ]
        table = []
        for r in shown:
            counts = _label_counts(r)
            row: list[list[Line]] = [[[(name(r.run, run_width), "cyan")]]]
            for k in labels:
                n = counts.get(k, 0)
                row.append([[(f"{n:,}" if n else ".", LABEL_STYLE[k] if n else "dim")]])
            table.append(row)
        yield []
        yield from rows(columns, table)
        rest = len(with_findings) - len(shown)
        clean = len(v.runs) - len(with_findings)
        tail = []
        if rest > 0:
            tail.append(f"{rest:,} more runs with findings")
        if clean:
            tail.append(f"{plural(clean, 'run')} without findings")
        if tail:
            yield [("  " + join_words(tail) + " (below).", "dim")]


def _label_counts(run: RunView) -> dict[str, int]:
    counts: dict[str, int] = {}
    seen: set[tuple[str, int, str]] = set()
    for row in run.series:
        for f in row.findings:
            key = (f.kind.value, f.start_step, f.tags[0])
            if key in seen:
                continue
            seen.add(key)
            label = (
                "flat line"
                if f.detail.get("constant")
                else ("non-finite" if f.kind is FindingKind.NONFINITE else f.kind.value)
            )
            counts[label] = counts.get(label, 0) + 1
    return counts


def _run_kinds(run: RunView) -> str:
    counts = _label_counts(run)
    return ", ".join(f"{counts[k]} {k}" for k in KIND_ORDER if k in counts)


class _RunLayout:
    """The lines of one run at one width."""

    def __init__(
        self,
        run: RunView,
        width: int,
        ascii_only: bool,
        show_all: bool,
        previous: list[str | None],
    ) -> None:
        self.previous = previous  # the last "not judged" line printed (shared by runs)
        self.run = run
        self.width = width
        self.ascii_only = ascii_only
        self.show_all = show_all
        self.curve_width = sparkline_width(width)

    def lines(self) -> Iterator[Line]:
        run = self.run
        yield self._rule()
        for issue in run.read_issues:
            style = "yellow" if issue.problem.value == "truncated" else "red"
            yield from (
                [("  ", ""), *line]
                for line in wrap(
                    [(f"{issue.problem.value}: ", f"bold {style}"), (name(issue.message), "")],
                    self.width - 2,
                )
            )
        if not run.series:
            yield [("  no scalar series", "dim")]
            return
        shown = [r for r in run.series if self.show_all or r.judged]
        if shown:
            yield from self._table(shown)
        if run.not_judged and (not self.show_all or not shown):
            if run.not_judged == self.previous[0]:
                yield [("  not judged: the same tags as in the run above.", "dim")]
            else:
                yield from self._para(run.not_judged, "dim", indent=2)
            self.previous[0] = run.not_judged
        for note in run.notes:
            yield from self._para(note, "yellow", indent=2)
        previous: tuple[str, ...] = ()
        for a in run.advice:
            yield []
            yield from self._advice(a, skip_tries=a.tries == previous)
            previous = a.tries or previous

    def _rule(self) -> Line:
        head: Line = [("── run ", "bold"), (name(self.run.run, self.width - 12), "bold cyan")]
        if self.run.framework:
            head.append((f" ({self.run.framework})", "dim"))
        used = width_of(head)
        if used + 2 < self.width:
            head.append((" " + "─" * (self.width - used - 1), "dim"))
        return head

    def _para(self, text: str, style: str, indent: int) -> list[Line]:
        pad = " " * indent
        lines = wrap([(escape.terminal(text, limit=_LONG), style)], self.width - indent)
        return [[(pad, ""), *line] for line in lines]

    # -- the table ------------------------------------------------------------------------

    def _columns(self, shown: list[SeriesView]) -> tuple[list[Column], list[str]]:
        w = self.width
        keys = ["tag", "last", "curve", "verdict"]
        if w >= 100:
            keys = ["tag", "goal", "best", "last", "curve", "verdict"]
        if w >= 140:
            keys.insert(2, "points")
        cap = 26 if w < 100 else (30 if w < 140 else 40)
        names = [name(r.tag) for r in shown] + ["= " + name(t) for r in shown for t in r.twins[:1]]
        tag_w = min(cap, max(3, *(cells(n) for n in names)))
        widths = {
            "tag": tag_w,
            "goal": 4,
            "points": max(6, *(len(f"{r.summary.points:,}") for r in shown)),
            "best": max(11, *(len(fmt_best(r.summary)) for r in shown)),
            "last": max(4, *(len(fmt(r.summary.last_value)) for r in shown)),
            "curve": self.curve_width,
        }
        used = 2 + sum(widths[k] + 1 for k in keys if k != "verdict")
        widths["verdict"] = max(20, w - used)
        if used + widths["verdict"] > w:  # very narrow: give the verdict room from the tag
            widths["tag"] = max(8, widths["tag"] - (used + widths["verdict"] - w))
        headers = {"best": "best (step)"}
        right = {"points", "best", "last"}
        cols = [Column(headers.get(k, k), widths[k], right=k in right) for k in keys]
        return cols, keys

    def _table(self, shown: list[SeriesView]) -> list[Line]:
        cols, keys = self._columns(shown)
        widths = dict(zip(keys, (c.width for c in cols), strict=True))
        table = [self._row(r, keys, widths) for r in shown]
        return rows(cols, table)

    def _row(self, r: SeriesView, keys: list[str], widths: dict[str, int]) -> list[list[Line]]:
        s = r.summary
        dim = "dim" if r.state in _DIM_STATES and not r.findings else ""
        tag: list[Line] = [[(name(r.tag, widths["tag"]), dim)]]
        for twin in r.twins[:1]:
            tag.append([(name("= " + twin, widths["tag"]), "dim")])
        cells_: dict[str, list[Line]] = {
            "tag": tag,
            "goal": [[(s.goal or "-", dim)]],
            "points": [[(f"{s.points:,}", "")]],
            "best": [[(fmt_best(s), "")]],
            "last": [[(fmt(s.last_value), "")]],
            "curve": self._curve(r),
            "verdict": wrap(
                [
                    (
                        ("; " if i else "") + escape.terminal(text, limit=_LONG),
                        _kind_style(k, r.state),
                    )
                    for i, (k, text) in enumerate(r.verdict)
                ],
                widths["verdict"],
            ),
        }
        return [cells_[k] for k in keys]

    def _curve(self, r: SeriesView) -> list[Line]:
        if r.curve is None or not len(r.curve):
            return [[("-", "dim")]]
        line = Sparkline.of(r.curve.steps, r.curve.values, r.findings, width=self.curve_width)
        out = [_styled(line.chars(ascii_only=self.ascii_only), line.kind, "bright_black")]
        if line.marks:
            out.append(_styled(line.markers(ascii_only=self.ascii_only), line.kind, ""))
        return out

    # -- advice ---------------------------------------------------------------------------

    def _advice(self, a: Advice, *, skip_tries: bool) -> Iterator[Line]:
        style = _kind_style(a.kind, a.label)
        if a.label in ("solved", "improving", "fits"):
            style = "green"
        elif a.label in ("chance level", "warm-up", "worsening"):
            style = "yellow" if a.kind is None else style
        head: list[tuple[str, str]] = [
            ("● " if a.kind is not None else "○ ", style),
            (name(a.tag, self.width - 8), "bold"),
            ("  " + a.title, style),
        ]
        if a.shown_confidence is not None:
            head.append((f"  confidence {a.shown_confidence:.0%}", "dim"))
        yield from ([("  ", ""), *line] for line in wrap(head, self.width - 2, indent="  "))
        for text in _advice_lines(a, skip_tries):
            style_ = "dim" if text.startswith("Also") else ""
            if text.startswith("Try: "):
                spans = [("Try: ", "bold green"), (escape.terminal(text[5:], limit=_LONG), "")]
            else:
                spans = [(escape.terminal(text, limit=_LONG), style_)]
            yield from ([("    ", ""), *line] for line in wrap(spans, self.width - 4))


def _styled(chars: str, kinds: tuple[FindingKind | None, ...], blank: str) -> Line:
    """A sparkline row as runs, each column in its finding's style (``blank`` outside)."""
    line: Line = []
    for i, ch in enumerate(chars):
        kind = kinds[i] if i < len(kinds) else None
        style = KIND_STYLE[kind] if kind is not None else blank
        if line and line[-1][1] == style:
            line[-1] = (line[-1][0] + ch, style)
        else:
            line.append((ch, style))
    return line


def _advice_lines(a: Advice, skip_tries: bool) -> Iterable[str]:
    lines = a.lines()
    if skip_tries and a.tries:
        lines = lines[:-1]
    return lines
