"""The report as HTML: a fragment for Jupyter (``Report._repr_html_``) and a whole
self-contained page (``tbplateau report --format html``).

The same view as the terminal: the summary (and a runs x kinds table for a sweep),
then per run a table of its series with an inline SVG sparkline in which each finding
is a shaded ``<rect class="finding" data-kind="...">``, and one advice per series.
Rows of series that were not judged sit in a ``<details>`` element (closed, no script
needed). Every row carries ``data-run`` and ``data-tag``; every advice item
``data-kind``, ``data-tag`` and ``data-start``, so the page can be checked by parsing
it. The page has no script and loads nothing: the style and the pictures are inline.
Names from the logs go through :func:`tbplateau.escape.html`.
"""

from __future__ import annotations

from tbplateau import escape
from tbplateau.explain import Advice, ReportView, RunView, SeriesView, fmt, fmt_best
from tbplateau.explain.text import plural
from tbplateau.findings import FindingKind
from tbplateau.render.sparkline import SVG_COLOUR, svg
from tbplateau.report import KIND_ORDER

__all__ = ["STYLE", "render_html", "render_html_page"]

_LONG = 1_000_000
SWEEP_ROWS = 20

STYLE = (
    "<style>"
    ".tbplateau-report{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;"
    "font-size:14px;line-height:1.4}"
    ".tbplateau-report table{border-collapse:collapse;margin:4px 0 8px 0}"
    ".tbplateau-report th,.tbplateau-report td{padding:2px 8px;text-align:left;"
    "vertical-align:middle}"
    ".tbplateau-report td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".tbplateau-report .dim{opacity:.6}"
    ".tbplateau-report code{overflow-wrap:anywhere}"
    ".tbplateau-report ul{margin-top:4px}"
    ".tbplateau-report li.advice{margin-bottom:6px}"
    "</style>"
)


def h(text: str, width: int | None = None) -> str:
    """A name (or a sentence holding names) as HTML text or attribute value."""
    if width is not None:
        text = escape.shorten(escape.terminal(text), width)
    return escape.html(text, limit=_LONG)


def attr(name: str) -> str:
    """A name as an attribute value (cut in the middle past MAX_NAME characters)."""
    return escape.html(name)


def _colour(kind: FindingKind | None, label: str = "") -> str:
    if kind is not None:
        return SVG_COLOUR[kind]
    return "#2ca02c" if label in ("improving", "solved", "fits", "") else "#b8860b"


def _row(s: SeriesView) -> str:
    summary = s.summary
    curve = ""
    if s.curve is not None and len(s.curve):
        curve = svg(s.curve.steps, s.curve.values, s.findings)
    verdict = "; ".join(
        f'<span style="color:{_colour(kind)}">{h(text)}</span>'
        if kind is not None
        else f'<span class="{"dim" if not s.judged else "state"}">{h(text)}</span>'
        for kind, text in s.verdict
    )
    tag = f"<code>{h(s.tag, 80)}</code>"
    if s.twins:
        tag += f'<br><span class="dim">= <code>{h(s.twins[0], 80)}</code></span>'
    return (
        f'<tr class="series" data-run="{attr(s.run)}" data-tag="{attr(s.tag)}" '
        f'data-state="{s.state}" data-findings="{len(s.findings)}">'
        f"<td>{tag}</td><td>{summary.goal or '-'}</td>"
        f'<td class="num">{summary.points:,}</td><td class="num">{h(fmt_best(summary))}</td>'
        f'<td class="num">{h(fmt(summary.last_value))}</td><td>{curve}</td>'
        f"<td>{verdict}</td></tr>"
    )


_HEAD = (
    "<table><thead><tr><th>tag</th><th>goal</th><th>points</th><th>best (step)</th>"
    "<th>last</th><th>curve</th><th>verdict</th></tr></thead><tbody>"
)


def _advice(a: Advice, skip_tries: bool) -> str:
    kind = a.kind.value if a.kind is not None else a.label
    start = "" if a.start_step is None else str(a.start_step)
    conf = (
        ""
        if a.shown_confidence is None
        else f' <span class="dim">confidence {a.shown_confidence:.0%}</span>'
    )
    lines = a.lines()
    if skip_tries and a.tries:
        lines = lines[:-1]
    context = {line: g for line, g in zip(a.context, a.others, strict=False)}

    def item(t: str) -> str:
        if t.startswith("Try: "):
            return f"<br><i>Try:</i> {h(t[5:])}"
        g = context.get(t)
        if g is not None:  # another finding of the series, said as context
            return (
                f'<br><span class="context" data-kind="{g.kind.value}" '
                f'data-start="{g.start_step}">{h(t)}</span>'
            )
        return f"<br>{h(t)}"

    body = "".join(item(t) for t in lines)
    return (
        f'<li class="advice" data-kind="{h(kind)}" data-tag="{attr(a.tag)}" data-start="{start}">'
        f'<b><code>{h(a.tag, 200)}</code> <span style="color:{_colour(a.kind, a.label)}">'
        f"{h(a.title)}</span></b>{conf}{body}</li>"
    )


def _run(run: RunView, show_all: bool) -> str:
    title = f"run <code>{h(run.run, 300)}</code>"
    if run.framework:
        title += f' <span class="dim">({h(run.framework)})</span>'
    out = [f'<section class="run" data-run="{attr(run.run)}">', f"<h4>{title}</h4>"]
    for issue in run.read_issues:
        out.append(f'<p class="read-issue"><b>{h(issue.problem.value)}</b>: {h(issue.message)}</p>')
    if run.series:
        shown = [r for r in run.series if show_all or r.judged]
        folded = [r for r in run.series if r not in shown]
        if shown:
            out.append(_HEAD + "".join(_row(s) for s in shown) + "</tbody></table>")
        if folded:
            out.append(
                f'<details class="not-judged"><summary class="dim">{h(run.not_judged or "")}'
                f"</summary>{_HEAD}{''.join(_row(s) for s in folded)}</tbody></table></details>"
            )
        elif run.not_judged and not show_all:
            out.append(f'<p class="dim">{h(run.not_judged)}</p>')
    else:
        out.append('<p class="dim">no scalar series</p>')
    for note in run.notes:
        out.append(f'<p class="note">{h(note)}</p>')
    if run.advice:
        out.append("<ul>")
        previous: tuple[str, ...] = ()
        for a in run.advice:
            out.append(_advice(a, a.tries == previous))
            previous = a.tries or previous
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def _sweep(view: ReportView) -> str:
    labels = [k for k in KIND_ORDER if any(k == label for label, _ in view.kinds)]
    worst = [r for r in view.runs if r.findings]
    if not labels or not worst:
        return ""
    head = "".join(f"<th>{h(k)}</th>" for k in labels)
    rows = []
    for r in worst[:SWEEP_ROWS]:
        counts: dict[str, int] = {}
        for row in r.series:
            if row.advice is not None and row.advice.kind is not None:
                counts[row.advice.label] = counts.get(row.advice.label, 0) + 1
        cells = "".join(f'<td class="num">{counts.get(k, 0) or "·"}</td>' for k in labels)
        rows.append(
            f'<tr class="sweep-run" data-run="{attr(r.run)}"><td><code>{h(r.run, 80)}</code></td>'
            f"{cells}</tr>"
        )
    return (
        f'<table class="sweep"><thead><tr><th>run</th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def render_html(view: ReportView, *, show_all: bool = False) -> str:
    """The whole report as one ``<div class="tbplateau-report">`` fragment."""
    s = view.summary
    kinds = ", ".join(f"{n:,} {h(k)}" for k, n in view.kinds)
    head = (
        f"<p><b>logdir</b> <code>{h(view.logdir, 300)}</code><br>"
        f"{plural(len(view.runs), 'run')}, {view.series:,} series "
        f"({s.get('judged_series', view.series):,} judged), "
        f"<b>{plural(view.findings, 'finding')}</b>"
        + (f": {kinds}" if kinds else "")
        + f"; {plural(view.read_issues, 'read issue')}"
        + (
            "<br>series states: " + h(", ".join(f"{n:,} {w}" for w, n in view.states))
            if view.states
            else ""
        )
        + "</p>"
    )
    if not view.has_curves and any(r.series for r in view.runs):
        head += '<p class="dim">curves not available: no sparklines or replays</p>'
    if view.sweep:
        head += _sweep(view)
    body = "".join(_run(r, show_all) for r in view.runs)
    return f'<div class="tbplateau-report">{STYLE}{head}{body}</div>'


def render_html_page(view: ReportView, *, show_all: bool = False) -> str:
    """A whole HTML page around :func:`render_html`: self-contained, no script."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>tbplateau report: {h(view.logdir, 200)}</title></head>\n<body>"
        f"{render_html(view, show_all=show_all)}</body></html>\n"
    )
