"""Regenerate the stored rendered reports and the README picture.

    python -m tests.expected.regen

Writes ``tests/expected/sample.w80.txt``, ``sample.w100.txt``, ``sample.w160.txt``
(the rich report of ``fixtures/sample`` without colour at 80, 100 and 160 columns),
``sample.md`` (Markdown), ``keras_lr_too_low.w80.txt`` (a model at chance level with
an LR that never moved) and ``docs/report.svg`` (the coloured report at 100 columns).
Review the diff by eye (``git diff tests/expected``) before keeping it: these files
change whenever the detectors or the wording do.
"""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from tbplateau.cli import main

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "fixtures" / "sample"
HERE = Path(__file__).resolve().parent
WIDTHS = (80, 100, 160)


def render(argv: list[str], width: int) -> str:
    """The stdout of ``tbplateau argv`` at ``width`` columns, without colour."""
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, legacy_windows=False)
    err = Console(file=io.StringIO(), width=width)
    main(argv, stdout=console, stderr=err)
    return out.getvalue()


def expected() -> dict[str, str]:
    """Every stored file's name and its freshly rendered content."""
    sample = "fixtures/sample"
    files = {f"sample.w{w}.txt": render(["report", sample], w) for w in WIDTHS}
    files["sample.md"] = render(["report", sample, "--format", "markdown"], 100)
    files["keras_lr_too_low.w80.txt"] = render(["report", "fixtures/keras_lr_too_low"], 80)
    return files


def svg() -> str:
    import tbplateau
    from tbplateau.render import report_renderable

    logdir = tbplateau.read_logdir("fixtures/sample")
    report = tbplateau.analyze(logdir)
    console = Console(record=True, width=100, file=io.StringIO(), force_terminal=True)
    console.print(report_renderable(report, logdir))
    return console.export_svg(title="tbplateau report fixtures/sample")


def main_() -> None:
    import os

    os.chdir(ROOT)
    for name, text in expected().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print(f"wrote tests/expected/{name}")
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "report.svg").write_text(svg(), encoding="utf-8")
    print("wrote docs/report.svg")


if __name__ == "__main__":
    main_()
