"""The report as an HTML fragment for Jupyter (``Report._repr_html_``).

The same tables and advice as the terminal, with an inline SVG sparkline per series
in which each finding is a shaded ``<rect class="finding" data-kind="...">``. Every
row carries ``data-run`` and ``data-tag``; every advice item ``data-kind``,
``data-tag`` and ``data-start``, so the fragment can be checked by parsing it.
"""

from __future__ import annotations

from html import escape

from tbplateau.explain.advice import ReportView, RunView, SeriesView, fmt, fmt_best
from tbplateau.findings import FindingKind
from tbplateau.render.sparkline import SVG_COLOUR, svg

__all__ = ["render_html"]

STYLE = (
    "<style>"
    ".tbplateau-report table{border-collapse:collapse;margin:4px 0 8px 0}"
    ".tbplateau-report th,.tbplateau-report td{padding:2px 8px;text-align:left;"
    "vertical-align:middle}"
    ".tbplateau-report td.num{text-align:right;font-variant-numeric:tabular-nums}"
    ".tbplateau-report .dim{opacity:.6}"
    ".tbplateau-report ul{margin-top:4px}"
    "</style>"
)


def _colour(kind: FindingKind | None) -> str:
    return "#2ca02c" if kind is None else SVG_COLOUR[kind]


def _row(s: SeriesView) -> str:
    summary = s.summary
    best = fmt_best(summary)
    curve = ""
    if s.curve is not None and len(s.curve):
        curve = svg(s.curve.steps, s.curve.values, s.findings)
    verdict = "; ".join(
        f'<span style="color:{_colour(kind)}">{escape(text)}</span>'
        if kind is not None
        else f'<span class="dim">{escape(text)}</span>'
        for kind, text in s.verdict
    )
    return (
        f'<tr class="series" data-run="{escape(s.run)}" data-tag="{escape(s.tag)}" '
        f'data-findings="{len(s.findings)}">'
        f"<td><code>{escape(summary.tag)}</code></td><td>{summary.goal or '-'}</td>"
        f'<td class="num">{summary.points:,}</td><td class="num">{escape(best)}</td>'
        f'<td class="num">{escape(fmt(summary.last_value))}</td><td>{curve}</td>'
        f"<td>{verdict}</td></tr>"
    )


def _run(run: RunView) -> str:
    out = [f'<section class="run" data-run="{escape(run.run)}">']
    out.append(f"<h4>run <code>{escape(run.run)}</code></h4>")
    for issue in run.read_issues:
        out.append(
            f'<p class="read-issue"><b>{escape(issue.problem.value)}</b>: '
            f"{escape(issue.message)}</p>"
        )
    if run.series:
        out.append(
            "<table><thead><tr><th>tag</th><th>goal</th><th>points</th><th>best (step)</th>"
            "<th>last</th><th>curve</th><th>verdict</th></tr></thead><tbody>"
        )
        out.extend(_row(s) for s in run.series)
        out.append("</tbody></table>")
    else:
        out.append('<p class="dim">no scalar series</p>')
    if run.advice:
        out.append("<ul>")
        for a in run.advice:
            kind = a.kind.value if a.kind is not None else "outlook"
            start = "" if a.start_step is None else str(a.start_step)
            conf = (
                ""
                if a.confidence is None
                else f' <span class="dim">confidence {a.confidence:.0%}</span>'
            )
            colour = _colour(a.kind)
            body = "".join(f"<br>{escape(f)}" for f in a.facts)
            if a.tries:
                body += f"<br><i>Try:</i> {escape('; '.join(a.tries))}."
            out.append(
                f'<li class="advice" data-kind="{kind}" data-tag="{escape(a.tag)}" '
                f'data-start="{start}"><b><code>{escape(a.tag)}</code> '
                f'<span style="color:{colour}">{escape(a.title)}</span></b>{conf}{body}</li>'
            )
        out.append("</ul>")
    out.append("</section>")
    return "".join(out)


def render_html(view: ReportView) -> str:
    """The whole report as one ``<div class="tbplateau-report">`` fragment."""
    kinds = ", ".join(f"{n} {escape(k)}" for k, n in view.kinds)
    head = (
        f"<p><b>logdir</b> <code>{escape(view.logdir)}</code><br>"
        f"{len(view.runs):,} run{'' if len(view.runs) == 1 else 's'}, {view.series:,} series, "
        f"{view.read_issues:,} read issue{'' if view.read_issues == 1 else 's'}; "
        f"{view.findings:,} finding{'' if view.findings == 1 else 's'}"
        + (f": {kinds}" if kinds else "")
        + "</p>"
    )
    if not view.has_curves and any(r.series for r in view.runs):
        head += '<p class="dim">curves not available: no sparklines or replays</p>'
    body = "".join(_run(r) for r in view.runs)
    return f'<div class="tbplateau-report">{STYLE}{head}{body}</div>'
