"""The report for a terminal, as a rich renderable.

Header (logdir, counts, the legend of the curve markers), then per run: its read
issues, a table of its series (tag, goal, points, best value and its step, last
value, the curve with the findings marked, the verdict) and the advice on each
finding. The layout follows the console: sparklines are 16, 24 or 32 characters wide
depending on the width, and drawn in ASCII when the console cannot encode Unicode.
Names and the sentences quoting them pass through :func:`tbplateau.escape.terminal`:
a control character in a tag shows as ``\\xNN`` text and never reaches the terminal.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from tbplateau.escape import terminal
from tbplateau.explain.advice import (
    Advice,
    ReportView,
    RunView,
    SeriesView,
    fmt,
    restart_note,
)
from tbplateau.findings import FindingKind
from tbplateau.render.sparkline import KIND_STYLE, Sparkline

__all__ = ["TerminalReport", "sparkline_width"]

LEGEND = (
    ("P", "plateau", "yellow"),
    ("F", "flat line", "yellow"),
    ("D", "divergence", "red"),
    ("N", "non-finite", "bold red"),
    ("O", "overfitting", "magenta"),
    ("S", "oscillation", "cyan"),
)


_LABEL_STYLE = {name: style for _, name, style in LEGEND}


def sparkline_width(console_width: int) -> int:
    """16 characters below 110 columns, 24 below 150, else 32."""
    if console_width < 110:
        return 16
    return 24 if console_width < 150 else 32


def _ascii_only(options: ConsoleOptions) -> bool:
    return options.legacy_windows or not options.encoding.lower().startswith("utf")


def _style(kind: FindingKind | None) -> str:
    return "green" if kind is None else KIND_STYLE[kind]


class TerminalReport:
    """A rich renderable of a :class:`~tbplateau.explain.advice.ReportView`."""

    def __init__(self, view: ReportView) -> None:
        self.view = view

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        ascii_only = _ascii_only(options)
        width = sparkline_width(options.max_width)
        yield self._header(ascii_only)
        for run in self.view.runs:
            yield Text()
            yield from self._run(run, width, ascii_only, console, options)

    def _header(self, ascii_only: bool) -> RenderableType:
        v = self.view
        head = Text.assemble(("logdir ", "bold"), (terminal(v.logdir), "bold cyan"))
        counts = Text(f"{len(v.runs):,} run" + ("" if len(v.runs) == 1 else "s"))
        counts.append(f", {v.series:,} series, ")
        counts.append(
            f"{v.read_issues:,} read issue" + ("" if v.read_issues == 1 else "s"),
            style="bold red" if v.read_issues else "green",
        )
        counts.append("; ")
        counts.append(
            f"{v.findings:,} finding" + ("" if v.findings == 1 else "s"),
            style="bold yellow" if v.findings else "green",
        )
        if v.kinds:
            counts.append(": ")
            for i, (label, n) in enumerate(v.kinds):
                counts.append(", " if i else "")
                counts.append(f"{n} {label}", style=_LABEL_STYLE.get(label, ""))
        lines: list[RenderableType] = [head, counts]
        if v.has_curves:
            legend = Text("marks: ", style="dim")
            for i, (letter, name, style) in enumerate(LEGEND):
                legend.append(", " if i else "", style="dim")
                legend.append(letter, style=f"bold {style}")
                legend.append(f" {name}", style="dim")
            lines.append(legend)
        elif any(r.series for r in self.view.runs):
            lines.append(Text("(curves not available: no sparklines or replays)", style="dim"))
        return Group(*lines)

    def _run(
        self,
        run: RunView,
        width: int,
        ascii_only: bool,
        console: Console,
        options: ConsoleOptions,
    ) -> RenderResult:
        yield Rule(Text.assemble(("run ", "bold"), (terminal(run.run), "bold cyan")), align="left")
        for issue in run.read_issues:
            style = "yellow" if issue.problem.value == "truncated" else "red"
            text = Text.assemble(
                (f"{issue.problem.value}: ", f"bold {style}"), terminal(issue.message)
            )
            yield from _indented(text, console, options.max_width, indent=2)
        if not run.series:
            yield Text("  no scalar series", style="dim")
            return
        yield Padding(self._table(run, width, ascii_only), (0, 0, 0, 2))
        note = restart_note(run)
        if note:
            yield from _indented(Text(note, style="yellow"), console, options.max_width, indent=2)
        for a in run.advice:
            yield Text()
            yield from self._advice(a, console, options.max_width)

    def _table(self, run: RunView, width: int, ascii_only: bool) -> Table:
        table = Table(
            show_edge=False,
            header_style="bold",
            pad_edge=False,
            box=None,
            padding=(0, 1, 0, 0) if width < 24 else (0, 1),
        )
        table.add_column("tag", overflow="fold", min_width=12, max_width=32)
        table.add_column("goal", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("best (step)", justify="right", overflow="fold")
        table.add_column("last", justify="right", no_wrap=True)
        table.add_column("curve", no_wrap=True, width=width)
        table.add_column("verdict", overflow="fold", min_width=20)
        for s in run.series:
            table.add_row(*self._row(s, width, ascii_only))
        return table

    def _row(self, s: SeriesView, width: int, ascii_only: bool) -> list[RenderableType]:
        summary = s.summary
        best = "-"
        if summary.best_step is not None:
            sep = "\n" if width < 24 else " "
            best = f"{fmt(summary.best_value)}{sep}({summary.best_step:,})"
        curve: RenderableType = Text("-", style="dim")
        if s.curve is not None and len(s.curve):
            line = Sparkline.of(s.curve.steps, s.curve.values, s.findings, width=width)
            curve = line.text(ascii_only=ascii_only)
            if line.marks:
                curve = Text.assemble(curve, "\n", line.marker_text(ascii_only=ascii_only))
        verdict = Text()
        for i, (kind, phrase) in enumerate(s.verdict):
            if i:
                verdict.append("; ")
            verdict.append(phrase, style=_style(kind) if kind is not None else "green")
        if s.verdict and s.verdict[0][1].startswith(("not judged", "too short", "no finding")):
            verdict.stylize("dim")
        return [
            Text(terminal(s.tag)),
            summary.goal or "-",
            f"{summary.points:,}",
            best,
            fmt(summary.last_value),
            curve,
            verdict,
        ]

    def _advice(self, a: Advice, console: Console, width: int) -> RenderResult:
        style = _style(a.kind) if a.kind is not None else "green"
        head = Text.assemble(
            "  ",
            ("● " if a.kind is not None else "○ ", style),
            (terminal(a.tag), "bold"),
            " ",
            (terminal(a.title), style),
        )
        if a.confidence is not None:
            head.append(f"  confidence {a.confidence:.0%}", style="dim")
        yield head
        for fact in a.facts:
            yield from _indented(Text(terminal(fact)), console, width)
        if a.tries:
            tries = Text.assemble(("Try: ", "bold green"), terminal("; ".join(a.tries)) + ".")
            yield from _indented(tries, console, width)


def _indented(text: Text, console: Console, width: int, indent: int = 4) -> list[Text]:
    """``text`` wrapped to ``width`` with a left margin and no trailing blanks."""
    lines = text.wrap(console, max(20, width - indent))
    out = []
    for line in lines:
        line.rstrip()
        out.append(Text(" " * indent) + line)
    return out
