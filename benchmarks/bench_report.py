"""Report benchmark: what the views cost next to the JSON document, on a generated sweep.

Usage::

    python benchmarks/bench_report.py [--runs 2000] [--points 200] [--data-dir DIR] [--cli]

The sweep (generated once into ``--data-dir``, default ``benchmarks/_data/report-sweep``,
git-ignored; regenerated when the sizes differ) has ``--runs`` run directories, each
with one event file holding two ``simple_value`` series of ``--points`` steps,
``train/loss`` and ``eval/loss``. The curves vary from run to run (healthy decay,
plateau, divergence, a NaN tail, overfitting, oscillation, a long hostile tag), so
every kind of finding and every advice path is exercised.

The logdir is read and analysed once, in this process (those times are printed for
scale); then each view is timed on that same report, best of ``--repeat``:

* ``json``: ``report.to_json()`` (the ``tbplateau.report/1`` document, view text included);
* ``rich``: the terminal report printed to a 100-column console without colour;
* ``markdown`` and ``html``: the two text views;
* ``ls text`` and ``ls json``: ``tbplateau ls``'s two outputs, on the logdir already read;
* then the rich, Markdown and HTML reports and ``ls`` of a run whose one tag is 1 MB and
  16 MB long (a hostile logdir): wall and CPU time and the output's size, which the
  views cap (``--no-huge`` skips it).

Each view's wall time and CPU time (``time.process_time``) are printed with its ratio
to ``json`` (``ls text`` against ``ls json``). The targets, printed next to the
figures and never asserted: ``rich`` and ``markdown`` within 1.5x of ``json``, ``ls
text`` within 1.5x of ``ls json``, whole commands included. With ``--cli``, the whole
commands also run end to end in fresh interpreters (``tbplateau report --format F``
and ``tbplateau ls``), where the analysis dominates and the ratios are closer to 1.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_DATA_DIR = HERE / "_data" / "report-sweep"
TARGET = 1.5


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _event(wall: float, step: int, tag: str, value: float) -> bytes:
    """A serialized ``Event`` with one ``simple_value`` (no protobuf library needed)."""
    name = tag.encode()
    val = _field(1, 2) + _varint(len(name)) + name + _field(2, 5) + struct.pack("<f", value)
    summary = _field(1, 2) + _varint(len(val)) + val
    return (
        _field(1, 1)
        + struct.pack("<d", wall)
        + _field(2, 0)
        + _varint(step)
        + _field(5, 2)
        + _varint(len(summary))
        + summary
    )


def _version_event() -> bytes:
    text = b"brain.Event:2"
    return _field(1, 1) + struct.pack("<d", 1.7e9) + _field(3, 2) + _varint(len(text)) + text


def _frame(data: bytes, crc: Callable[[bytes], int]) -> bytes:
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", crc(header)) + data + struct.pack("<I", crc(data))


def _curves(i: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n, dtype=np.float64)
    noise = np.exp(rng.normal(0, 0.02, n))
    train = (0.2 + 2.0 * np.exp(-t / (n / 6))) * noise
    val = (0.3 + 2.0 * np.exp(-t / (n / 6))) * np.exp(rng.normal(0, 0.02, n))
    shape = i % 6
    if shape == 1:  # plateau from a third of the way
        k = n // 3
        train[k:] = train[k] * np.exp(rng.normal(0, 0.01, n - k))
    elif shape == 2:  # divergence, then NaN
        k = n // 2
        train[k:] = train[k] * np.exp(np.linspace(0, 6, n - k))
        train[-n // 10 :] = np.nan
    elif shape == 3:  # overfitting
        k = n // 3
        val[k:] = val[k] + np.linspace(0, 1.0, n - k)
    elif shape == 4:  # oscillation
        k = n // 2
        train[k:] = train[k] * (1 + 0.5 * (-1) ** np.arange(n - k))
    return train, val


def generate(root: Path, runs: int, points: int) -> None:
    """Write the sweep under ``root`` (see the module docstring)."""
    from tbplateau.reader._scan_py import masked_crc32c

    try:
        from tbplateau.reader._fastscan import masked_crc32c as fast

        crc: Callable[[bytes], int] = fast
    except ImportError:  # pragma: no cover - pure-Python install
        crc = masked_crc32c
    rng = np.random.default_rng(0)
    width = len(str(runs - 1))
    for i in range(runs):
        run = root / f"lr_{i % 7}" / f"seed_{i:0{width}d}"
        run.mkdir(parents=True, exist_ok=True)
        train, val = _curves(i, points, rng)
        tags = ("train/loss", "eval/loss")
        if i == runs // 2:  # one hostile, long pair of names
            tags = ("train/" + "x" * 5000 + "\x1b[2J/loss", "eval/" + "x" * 5000 + "\x1b[2J/loss")
        records = [_frame(_version_event(), crc)]
        for s in range(points):
            wall = 1.7e9 + s
            records.append(_frame(_event(wall, s, tags[0], float(train[s])), crc))
            records.append(_frame(_event(wall, s, tags[1], float(val[s])), crc))
        (run / "events.out.tfevents.1700000000.bench").write_bytes(b"".join(records))
    (root / "SIZES.json").write_text(json.dumps({"runs": runs, "points": points}))


def _ensure(root: Path, runs: int, points: int) -> None:
    sizes = root / "SIZES.json"
    if sizes.exists() and json.loads(sizes.read_text()) == {"runs": runs, "points": points}:
        return
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    print(f"generating {runs:,} runs x 2 series x {points} points in {root} ...", flush=True)
    generate(root, runs, points)


def _best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, cpu) seconds of the fastest of ``repeat`` calls."""
    best = (math.inf, math.inf)
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        w, c = time.perf_counter() - w0, time.process_time() - c0
        if w < best[0]:
            best = (w, c)
    return best


def _row(name: str, wall: float, cpu: float, base: tuple[float, float] | None) -> None:
    """One figure; against ``base``, the CPU ratio decides (wall time is noisy on a
    shared machine) and the wall ratio is printed beside it."""
    ratio = ""
    if base is not None:
        r_cpu = cpu / max(base[1], 1e-9)
        r_wall = wall / max(base[0], 1e-9)
        verdict = "ok" if r_cpu <= TARGET else "OVER"
        ratio = f"x{r_cpu:5.2f} cpu (x{r_wall:5.2f} wall)  {verdict} (target <= {TARGET}x)"
    print(f"  {name:<24} {wall:9.3f} s wall {cpu:9.3f} s cpu  {ratio}")


def in_process(root: Path, repeat: int) -> None:
    """Time each view on one report read and analysed once."""
    from rich.console import Console

    import tbplateau
    from tbplateau.cli.ls import ls_document, render_ls
    from tbplateau.cli.ls import ls_text as text_of_ls
    from tbplateau.render import report_html, report_markdown, report_renderable
    from tbplateau.render.terminal import TerminalReport

    w0, c0 = time.perf_counter(), time.process_time()
    logdir = tbplateau.read_logdir(root)
    w1, c1 = time.perf_counter(), time.process_time()
    report = tbplateau.analyze(logdir)
    w2, c2 = time.perf_counter(), time.process_time()
    n = sum(len(r.series) for r in logdir.runs)
    print(f"{len(logdir.runs):,} runs, {n:,} series")
    print(f"  {'read':<22} {w1 - w0:9.3f} s wall {c1 - c0:9.3f} s cpu")
    print(f"  {'analyse':<22} {w2 - w1:9.3f} s wall {c2 - c1:9.3f} s cpu")

    def rich() -> str:  # what `tbplateau report` prints when piped (no colour)
        renderable = report_renderable(report, logdir)
        assert isinstance(renderable, TerminalReport)
        return renderable.plain(100)

    def ls_text() -> str:  # what `tbplateau ls` prints when piped (no colour)
        return text_of_ls(logdir, 100)

    def ls_colour() -> str:  # the same through rich, with colour
        out = io.StringIO()
        render_ls(logdir, Console(file=out, width=100, color_system="truecolor"))
        return out.getvalue()

    def rich_colour() -> str:
        out = io.StringIO()
        console = Console(file=out, width=100, color_system="truecolor", legacy_windows=False)
        console.print(report_renderable(report, logdir))
        return out.getvalue()

    views: list[tuple[str, Callable[[], object]]] = [
        ("report json", lambda: report.to_json(indent=1)),
        ("report rich", rich),
        ("report rich, colour", rich_colour),
        ("report markdown", lambda: report_markdown(report, logdir)),
        ("report html", lambda: report_html(report, logdir)),
    ]
    print(f"views of the analysed report (best of {repeat}):")
    base = None
    for name, fn in views:
        wall, cpu = _best(fn, repeat)
        _row(name, wall, cpu, base)
        base = base or (wall, cpu)
    ls_json = _best(lambda: json.dumps(ls_document(logdir), indent=1), repeat)
    _row("ls json", *ls_json, None)
    _row("ls text", *_best(ls_text, repeat), ls_json)
    _row("ls text, colour", *_best(ls_colour, repeat), ls_json)


def _huge_one(folder: Path, size: int) -> None:
    from rich.console import Console

    import tbplateau
    from tbplateau.cli.ls import render_ls
    from tbplateau.render import report_html_page, report_markdown, report_renderable

    logdir = tbplateau.read_logdir(folder)
    report = tbplateau.analyze(logdir)

    def rich() -> str:
        out = io.StringIO()
        Console(file=out, width=100, color_system=None).print(report_renderable(report, logdir))
        return out.getvalue()

    def ls() -> str:
        out = io.StringIO()
        render_ls(logdir, Console(file=out, width=100, color_system=None))
        return out.getvalue()

    for name, fn in (
        ("rich", rich),
        ("markdown", lambda: report_markdown(report, logdir)),
        ("html", lambda: report_html_page(report, logdir)),
        ("ls text", ls),
    ):
        w0, c0 = time.perf_counter(), time.process_time()
        text = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        print(
            f"  {size >> 20:>2} MB tag, {name:<10} {wall:8.3f} s wall {cpu:8.3f} s cpu"
            f"  output {len(text):>9,} characters"
        )


def huge_names(root: Path) -> None:
    """The rich, Markdown and HTML reports and ``ls`` of one run whose tag is 1 MB or
    16 MB long (once each: wall, CPU and output size)."""
    try:
        from tbplateau.reader._fastscan import masked_crc32c as crc
    except ImportError:  # pragma: no cover - pure-Python install
        from tbplateau.reader._scan_py import masked_crc32c as crc
    print("huge tag names (one run, one series of 200 points; once each):")
    for size in (1 << 20, 16 << 20):
        folder = root / f"huge-{size >> 20}MB"
        event_file = folder / "r" / "events.out.tfevents.1"
        if not event_file.exists():
            event_file.parent.mkdir(parents=True, exist_ok=True)
            tag = "metrics/" + "x" * size + "/loss"
            records = [_frame(_version_event(), crc)]
            records += [_frame(_event(1.7e9 + s, s, tag, 1.0 / (1 + s)), crc) for s in range(200)]
            event_file.write_bytes(b"".join(records))
        _huge_one(folder, size)


def end_to_end(root: Path) -> None:
    """Whole commands in fresh interpreters (reading and analysis included)."""
    env = {**os.environ, "COLUMNS": "100", "PYTHONPATH": str(ROOT / "src")}
    print("whole commands (fresh interpreter each; children's CPU time):")
    base: tuple[float, float] | None = None
    for label, argv in (
        ("report --format json", ["report", str(root), "--format", "json"]),
        ("report (rich)", ["report", str(root)]),
        ("report --format markdown", ["report", str(root), "--format", "markdown"]),
        ("ls --format json", ["ls", str(root), "--format", "json"]),
        ("ls (text)", ["ls", str(root)]),
    ):
        if label.startswith("ls --format"):
            base = None
        before = os.times()
        w0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tbplateau", *argv],
            stdout=subprocess.DEVNULL,
            check=False,
            env=env,
        )
        wall = time.perf_counter() - w0
        after = os.times()
        cpu = (after.children_user - before.children_user) + (
            after.children_system - before.children_system
        )
        _row(label, wall, cpu, base)
        base = base or (wall, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--cli", action="store_true", help="also time the whole commands")
    parser.add_argument("--no-huge", action="store_true", help="skip the 1 MB / 16 MB tag names")
    args = parser.parse_args()
    _ensure(args.data_dir, args.runs, args.points)
    in_process(args.data_dir, args.repeat)
    if not args.no_huge:
        huge_names(args.data_dir.parent / "report-huge-names")
    if args.cli:
        end_to_end(args.data_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
