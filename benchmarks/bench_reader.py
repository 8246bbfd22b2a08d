"""Reader benchmark: tbplateau's ``read_logdir`` against tbparse and TensorBoard's EventAccumulator.

Usage::

    python benchmarks/bench_reader.py [--quick] [--repeat N] [--only a,b,c,d] [--data-dir DIR]
                                      [--baseline-src DIR] [--no-peers]

Datasets (generated once into ``--data-dir``, default ``benchmarks/_data/``, which is
git-ignored; reused when present, regenerated when the sizes differ):

* **a** one event file of 1,000,000 ``simple_value`` scalars (4 tags x 250,000 steps),
  as TF1, PyTorch and tensorboardX write them;
* **b** the same as TF2 tensor scalars: rank-0 ``DT_FLOAT`` tensors (``tensor_content``),
  with ``scalars`` plugin metadata on the first event of each tag only;
* **c** a sweep of 200 runs x 8 tags x 1,000 steps (``simple_value``), one event file
  per run directory, read from the sweep's root;
* **d** scalars among histograms and images, PyTorch-style (per step: 2 scalars, one
  30-bucket ``HistogramProto``, one ~4 KB PNG), 5,000 steps.

``--quick`` keeps the same structure with smaller sizes (a/b: 4 x 25,000; c: 40 runs
x 8 x 250; d: 500 steps) for smoke use; the targets only apply to the full sizes.

Files are written with TensorBoard's protobufs (``tensorboard.compat.proto``) and
framed as TFRecords with tbplateau's compiled masked CRC-32C (the same value as
TensorBoard's own RecordWriter, which computes it in pure Python and is far too slow
for a million records). Every file starts with a ``file_version`` event; wall times
increase; values follow a noisy decreasing float32 curve.

Readers, each in its own fresh subprocess (``python this_script --child ...``):

* **ours**: ``tbplateau.read_logdir(path)``, points = ``sum(len(s) for s in
  logdir.iter_series())``; run 3 times (``--repeat-ours``), median reported;
* **ours (pure Python)**: the same with ``TBPLATEAU_PURE_PYTHON=1``, on (a) only, once
  (``--no-pure`` skips it);
* **tbparse**: ``tbparse.SummaryReader(path).scalars`` (plus ``.tensors`` on (b));
  points = rows; pointed at the sweep root for (c);
* **tensorboard**: TensorBoard's v1 ``EventAccumulator`` with size guidance 0 (keep
  everything) for every kind, ``Reload()``; points = all ``Scalars(tag)`` plus the
  ``Tensors(tag)`` of tags whose plugin is ``scalars``. For (c): one accumulator per
  run directory, read one after the other (what EventMultiplexer does per run).

Peers run once each by default (``--repeat N``). Every number is measured in the
child: ``read s`` is ``time.perf_counter()`` around the read and the point count only
(interpreter start-up and imports excluded; ``import s`` is the imports alone). Peak
RSS is the child's ``ru_maxrss`` from ``os.wait4`` on that child (KB on Linux): the
largest resident set of the child, or of a process it waited for. tbplateau scans
large multi-file logdirs in a process pool; those workers' own peak is reported on
the side (``workers MB``), and ``wait4`` folds the largest of them into the child's
figure. Files are read from a warm page cache (they were just written or read).

Every reader must find the same number of points, the number written; a mismatch
is printed loudly and makes the exit status 1.

``--baseline-src DIR`` adds "ours, baseline": the same read with ``PYTHONPATH=DIR``
(a checkout of an older commit, its extension built in place), run alternately with
ours, and prints the ratios of their median wall and CPU times, to check that a change
does not slow reading down. ``--no-peers`` skips tbparse and TensorBoard.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = HERE / "_data"
WALL0 = 1_763_800_000.0

SPEED_TARGET = 25.0
"""Ours must be at least this many times faster than tbparse on (a), (b), (c)."""
RSS_TARGET_MB = 150.0
"""Ours must peak at or below this on (a) and (b)."""
REFERENCE = (
    "reference (measured elsewhere): tbparse 19 s / 385 MB on (a), 35 s / 1.6 GB on (b), "
    "32 s on (c); TensorBoard's Rust data server 0.73 s on (a)"
)


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    params: dict[str, int]
    points: int
    tensors: bool = False
    sweep: bool = False

    @property
    def dirname(self) -> str:
        sig = "-".join(f"{k}{v}" for k, v in self.params.items())
        return f"{self.key}-{sig}"


def datasets(quick: bool) -> dict[str, Dataset]:
    n_ab = 25_000 if quick else 250_000
    runs, steps_c = (40, 250) if quick else (200, 1_000)
    steps_d = 500 if quick else 5_000
    return {
        "a": Dataset(
            "a", f"(a) 1 file, {4 * n_ab:,} simple_value", {"tags": 4, "steps": n_ab}, 4 * n_ab
        ),
        "b": Dataset(
            "b",
            f"(b) 1 file, {4 * n_ab:,} TF2 tensor scalars",
            {"tags": 4, "steps": n_ab},
            4 * n_ab,
            tensors=True,
        ),
        "c": Dataset(
            "c",
            f"(c) sweep {runs} runs x 8 tags x {steps_c:,}",
            {"runs": runs, "tags": 8, "steps": steps_c},
            runs * 8 * steps_c,
            sweep=True,
        ),
        "d": Dataset(
            "d",
            f"(d) {steps_d:,} steps: 2 scalars + histo + image",
            {"steps": steps_d},
            2 * steps_d,
        ),
    }


class _Framer:
    """Writes TFRecord-framed serialized events to a file, buffered."""

    def __init__(self, path: Path) -> None:
        from tbplateau.reader._fastscan import masked_crc32c

        self._crc: Callable[[bytes], int] = masked_crc32c
        self._fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._buf: list[bytes] = []

    def add(self, data: bytes) -> None:
        crc = self._crc
        header = struct.pack("<Q", len(data))
        pack = struct.pack
        self._buf.append(header + pack("<I", crc(header)) + data + pack("<I", crc(data)))
        if len(self._buf) >= 65_536:
            self.flush()

    def flush(self) -> None:
        self._fh.write(b"".join(self._buf))
        self._buf.clear()

    def close(self) -> None:
        self.flush()
        self._fh.close()


def _open_event_file(run_dir: Path, index: int, wall0: float) -> _Framer:
    from tensorboard.compat.proto import event_pb2

    run_dir.mkdir(parents=True, exist_ok=True)
    framer = _Framer(run_dir / f"events.out.tfevents.{int(wall0)}.bench.{index}.0")
    framer.add(event_pb2.Event(wall_time=wall0, file_version="brain.Event:2").SerializeToString())
    return framer


def _curves(n_tags: int, n_steps: int, seed: int) -> list[list[float]]:
    """One noisy decreasing float32 loss-like curve per tag, as Python floats."""
    import numpy as np

    rng = np.random.default_rng(seed)
    s = np.arange(n_steps, dtype=np.float64)
    out = []
    for t in range(n_tags):
        scale = 0.5 + t
        base = scale * (0.15 + 2.0 / (1.0 + s / max(1.0, n_steps / 40)))
        noise = 1.0 + 0.05 * rng.standard_normal(n_steps)
        out.append((base * noise).astype(np.float32).tolist())
    return out


def _write_scalar_file(
    run_dir: Path, index: int, tags: list[str], n_steps: int, seed: int, tensors: bool
) -> None:
    """One event per scalar, step-major (every tag at step 0, then step 1, ...)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2, types_pb2

    wall0 = WALL0 + index
    framer = _open_event_file(run_dir, index, wall0)
    curves = _curves(len(tags), n_steps, seed)
    ev = event_pb2.Event()
    value = ev.summary.value.add()
    metadata_md = summary_pb2.SummaryMetadata()
    metadata_md.plugin_data.plugin_name = "scalars"
    metadata_md.data_class = summary_pb2.DATA_CLASS_SCALAR
    if tensors:
        value.tensor.dtype = types_pb2.DT_FLOAT
        value.tensor.tensor_shape.SetInParent()
    pack = struct.Struct("<f").pack
    add = framer.add
    dt = 1.0 / (len(tags) + 1)
    for step in range(n_steps):
        ev.step = step
        for t, tag in enumerate(tags):
            ev.wall_time = wall0 + 0.05 * (step + t * dt)
            value.tag = tag
            v = curves[t][step]
            if tensors:
                value.tensor.tensor_content = pack(v)
                if step == 0:
                    value.metadata.CopyFrom(metadata_md)
                else:
                    value.ClearField("metadata")
            else:
                value.simple_value = v
            add(ev.SerializeToString())
    framer.close()


def _png(width: int, height: int, seed: int) -> bytes:
    """A real RGB PNG: a gradient with noise (a few KB once deflated)."""
    import zlib

    import numpy as np

    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([x * 255 // width, y * 255 // height, (x + y) * 127 // (width + height)], -1)
    img = np.clip(img + rng.integers(-24, 24, img.shape), 0, 255).astype(np.uint8)
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def _write_mixed_file(run_dir: Path, n_steps: int) -> None:
    """PyTorch-style: each add_scalar / add_histogram / add_image is its own event."""
    import numpy as np
    from tensorboard.compat.proto import event_pb2, summary_pb2

    framer = _open_event_file(run_dir, 0, WALL0)
    loss, lr = _curves(2, n_steps, seed=4)
    rng = np.random.default_rng(5)
    images = [_png(40, 40, i) for i in range(16)]
    edges = np.linspace(-3.0, 3.0, 31)
    for step in range(n_steps):
        wall = WALL0 + 0.2 * step
        for i, (tag, v) in enumerate((("train/loss", loss[step]), ("train/lr", lr[step]))):
            ev = event_pb2.Event(wall_time=wall + 0.01 * i, step=step)
            ev.summary.value.add(tag=tag, simple_value=v)
            framer.add(ev.SerializeToString())
        sample = rng.normal(0.2 * np.sin(step / 200), 1.0 - 0.5 * step / n_steps, 1_000)
        counts, _ = np.histogram(sample, bins=edges)
        histo = summary_pb2.HistogramProto(
            min=float(sample.min()),
            max=float(sample.max()),
            num=float(sample.size),
            sum=float(sample.sum()),
            sum_squares=float((sample**2).sum()),
            bucket_limit=edges[1:].tolist(),
            bucket=counts.astype(float).tolist(),
        )
        ev = event_pb2.Event(wall_time=wall + 0.03, step=step)
        ev.summary.value.add(tag="weights/layer1", histo=histo)
        framer.add(ev.SerializeToString())
        image = summary_pb2.Summary.Image(
            height=40, width=40, colorspace=3, encoded_image_string=images[step % len(images)]
        )
        ev = event_pb2.Event(wall_time=wall + 0.04, step=step)
        ev.summary.value.add(tag="samples/input", image=image)
        framer.add(ev.SerializeToString())
    framer.close()


def ensure_dataset(ds: Dataset, data_dir: Path) -> tuple[Path, str]:
    """The dataset's logdir, generated unless a complete copy is there."""
    import shutil

    path = data_dir / ds.dirname
    marker = data_dir / f"{ds.dirname}.complete"
    if marker.exists() and path.is_dir():
        return path, "reused"
    shutil.rmtree(path, ignore_errors=True)
    marker.unlink(missing_ok=True)
    t0 = time.perf_counter()
    p = ds.params
    if ds.key in ("a", "b"):
        tags = [f"train/loss_{i}" for i in range(p["tags"])]
        _write_scalar_file(path, 0, tags, p["steps"], seed=1, tensors=ds.tensors)
    elif ds.key == "c":
        tags = [f"metrics/m{i}" for i in range(p["tags"])]
        for r in range(p["runs"]):
            _write_scalar_file(
                path / f"run_{r:03d}", r, tags, p["steps"], seed=100 + r, tensors=False
            )
    else:
        _write_mixed_file(path, p["steps"])
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    marker.write_text(json.dumps({"params": ds.params, "points": ds.points, "bytes": size}))
    return path, f"generated in {time.perf_counter() - t0:.1f} s"


def dataset_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# --------------------------------------------------------------------------- child side


def _read_ours(path: str) -> tuple[int, dict[str, Any]]:
    import tbplateau
    from tbplateau.reader import IMPLEMENTATION

    t1 = time.perf_counter()
    c1 = time.process_time()
    logdir = tbplateau.read_logdir(path)
    points = sum(len(s) for s in logdir.iter_series())
    t2 = time.perf_counter()
    c2 = time.process_time()
    return points, {
        "t_import_end": t1,
        "t_read_end": t2,
        "cpu": c2 - c1,
        "implementation": IMPLEMENTATION,
        "read_issues": len(logdir.read_issues),
        "source": tbplateau.__file__,
    }


def _read_tbparse(path: str, tensors: bool) -> tuple[int, dict[str, Any]]:
    from tbparse import SummaryReader

    t1 = time.perf_counter()
    reader = SummaryReader(path)
    points = len(reader.scalars)
    if tensors:
        points += len(reader.tensors)
    t2 = time.perf_counter()
    return points, {"t_import_end": t1, "t_read_end": t2}


def _read_tensorboard(path: str, sweep: bool) -> tuple[int, dict[str, Any]]:
    from tensorboard.backend.event_processing import event_accumulator as ea

    t1 = time.perf_counter()
    guidance = dict.fromkeys(ea.DEFAULT_SIZE_GUIDANCE, 0)
    run_dirs = sorted(str(p) for p in Path(path).iterdir() if p.is_dir()) if sweep else [path]
    points = 0
    for run_dir in run_dirs:
        acc = ea.EventAccumulator(run_dir, size_guidance=guidance)
        acc.Reload()
        tags = acc.Tags()
        points += sum(len(acc.Scalars(t)) for t in tags[ea.SCALARS])
        for t in tags[ea.TENSORS]:
            if acc.SummaryMetadata(t).plugin_data.plugin_name == "scalars":
                points += len(acc.Tensors(t))
    t2 = time.perf_counter()
    return points, {"t_import_end": t1, "t_read_end": t2}


def _vm_hwm_kb() -> int:
    """This process's own peak resident set (its address space only), from /proc."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def child_main(reader: str, path: str, tensors: bool, sweep: bool) -> int:
    t0 = time.perf_counter()
    if reader in ("ours", "ours-pure", "ours-base", "ours-pure-base"):
        points, info = _read_ours(path)
    elif reader == "tbparse":
        points, info = _read_tbparse(path, tensors)
    elif reader == "tensorboard":
        points, info = _read_tensorboard(path, sweep)
    elif reader == "baseline":
        points, info = 0, {"t_import_end": t0, "t_read_end": t0}
    else:
        raise SystemExit(f"unknown reader {reader!r}")
    t1, t2 = info.pop("t_import_end"), info.pop("t_read_end")
    info.update(
        points=points,
        seconds=t2 - t1,
        import_seconds=t1 - t0,
        self_maxrss_kb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        vm_hwm_kb=_vm_hwm_kb(),
        children_maxrss_kb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    sys.stdout.write("BENCH " + json.dumps(info) + "\n")
    sys.stdout.flush()
    return 0


# --------------------------------------------------------------------------- parent side


@dataclass
class Measurement:
    points: int
    seconds: float
    import_seconds: float
    maxrss_mb: float
    workers_mb: float
    info: dict[str, Any]


@dataclass
class Row:
    dataset: Dataset
    reader: str
    label: str
    runs: list[Measurement] = field(default_factory=list)
    error: str | None = None

    @property
    def seconds(self) -> float:
        return statistics.median(m.seconds for m in self.runs)

    @property
    def import_seconds(self) -> float:
        return statistics.median(m.import_seconds for m in self.runs)

    @property
    def maxrss_mb(self) -> float:
        return max(m.maxrss_mb for m in self.runs)

    @property
    def workers_mb(self) -> float:
        return max(m.workers_mb for m in self.runs)

    @property
    def points(self) -> int:
        return self.runs[0].points


def run_child(
    reader: str,
    path: Path,
    ds: Dataset | None,
    timeout: float,
    pure: bool = False,
    src: str | None = None,
) -> Measurement:
    """Run one reader in a fresh interpreter; peak RSS from wait4 on that very child."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", reader, str(path)]
    if ds is not None and ds.tensors:
        cmd.append("--child-tensors")
    if ds is not None and ds.sweep:
        cmd.append("--child-sweep")
    env = dict(os.environ)
    env.pop("TBPLATEAU_PURE_PYTHON", None)
    if pure:
        env["TBPLATEAU_PURE_PYTHON"] = "1"
    if src:
        env["PYTHONPATH"] = src
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            out = proc.stdout.read().decode("utf-8", "replace")
            proc.stdout.close()
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        err_text = err.read().decode("utf-8", "replace")
    lines = [ln for ln in out.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        why = "timed out" if proc.returncode == -9 else f"exit status {proc.returncode}"
        tail = "\n".join((err_text + out).strip().splitlines()[-15:])
        raise RuntimeError(f"{reader} failed ({why}):\n{tail}")
    info = json.loads(lines[-1][len("BENCH ") :])
    return Measurement(
        points=int(info.pop("points")),
        seconds=float(info.pop("seconds")),
        import_seconds=float(info.pop("import_seconds")),
        maxrss_mb=usage.ru_maxrss / 1024.0,
        workers_mb=float(info.get("children_maxrss_kb", 0)) / 1024.0,
        info=info,
    )


def _plan(ds: Dataset, args: argparse.Namespace) -> Iterator[tuple[str, str, int, bool]]:
    """(reader, label, repeats, pure) for one dataset."""
    yield "ours", "ours (tbplateau)", args.repeat_ours, False
    if args.baseline_src:
        yield "ours-base", "ours, baseline", args.repeat_ours, False
    if ds.key == "a" and not args.no_pure:
        yield "ours-pure", "ours, pure Python", 1, True
        if args.baseline_src:
            yield "ours-pure-base", "ours, pure Python, baseline", 1, True
    if not args.no_peers:
        yield "tbparse", "tbparse", args.repeat, False
        yield "tensorboard", "TB EventAccumulator", args.repeat, False


def _baseline_lines(rows: list[Row]) -> list[str]:
    """Ours against the baseline source, dataset by dataset (median wall and CPU)."""
    out = ["ours vs baseline (same run; < 1.00 means ours is faster):"]
    by = {(r.dataset.key, r.reader): r for r in rows if r.runs}
    for (key, reader), row in sorted(by.items()):
        if not reader.endswith("-base"):
            continue
        ours = by.get((key, reader[: -len("-base")]))
        if ours is None:
            continue
        cpu = statistics.median(m.info.get("cpu", 0.0) for m in ours.runs)
        cpu_base = statistics.median(m.info.get("cpu", 0.0) for m in row.runs)
        wall = ours.seconds / row.seconds
        verdict = "within 5%" if wall <= 1.05 or cpu / cpu_base <= 1.05 else "SLOWER by > 5%"
        out.append(
            f"  ({key}) {ours.label}: wall {ours.seconds:.3f} s vs {row.seconds:.3f} s "
            f"({wall:.3f}x), CPU {cpu:.3f} s vs {cpu_base:.3f} s ({cpu / cpu_base:.3f}x): "
            f"{verdict}"
        )
    return out


def _fmt_ratio(x: float) -> str:
    return f"{x:,.1f}x" if x >= 10 else f"{x:.2f}x"


def _table(rows: list[Row], sizes: dict[str, int]) -> str:
    header = (
        f"  {'reader':<30} {'points':>10} {'read s':>8} {'Mpts/s':>7} {'import s':>8} "
        f"{'RSS MB':>7} {'workers MB':>10} {'peer s/our s':>12} {'our RSS/theirs':>14}"
    )
    lines = [header, "-" * len(header)]
    ours_by_ds = {r.dataset.key: r for r in rows if r.reader == "ours" and r.runs}
    last = ""
    for r in rows:
        if r.dataset.key != last:
            if last:
                lines.append("")
            last = r.dataset.key
            lines.append(f"{r.dataset.title} [{sizes[r.dataset.key] / 2**20:.0f} MB on disk]")
        n = len(r.runs)
        label = r.label + (f" (median of {n})" if n > 1 else "")
        if not r.runs:
            lines.append(f"  {label:<30} FAILED: {r.error}")
            continue
        ours = ours_by_ds.get(r.dataset.key)
        speed = rss = ""
        if ours is not None and r.reader != "ours":
            speed = _fmt_ratio(r.seconds / ours.seconds)
            rss = f"{ours.maxrss_mb / r.maxrss_mb:.2f}x"
        workers = f"{r.workers_mb:.0f}" if r.workers_mb > 0 else "-"
        lines.append(
            f"  {label:<30} {r.points:>10,} {r.seconds:>8.3f} "
            f"{r.points / r.seconds / 1e6:>7.2f} {r.import_seconds:>8.2f} {r.maxrss_mb:>7.0f} "
            f"{workers:>10} {speed:>12} {rss:>14}"
        )
    lines += [
        "",
        "read s: median over runs, read + point count only; Mpts/s: points / read s; "
        "RSS MB: the child's peak",
        "(wait4 ru_maxrss, max over runs); workers MB: peak of tbplateau's scan-pool workers "
        "(- = none started);",
        "peer s/our s > 1 means ours is faster; our RSS/theirs < 1 means ours uses less memory.",
    ]
    return "\n".join(lines)


def _targets(rows: list[Row], quick: bool) -> list[str]:
    out = ["targets" + (" (shown for reference only: --quick sizes)" if quick else "") + ":"]
    by = {(r.dataset.key, r.reader): r for r in rows if r.runs}
    for key in ("a", "b", "c"):
        ours, peer = by.get((key, "ours")), by.get((key, "tbparse"))
        if ours is not None and peer is not None:
            x = peer.seconds / ours.seconds
            verdict = "met" if x >= SPEED_TARGET else "MISSED"
            out.append(
                f"  ({key}) ours {ours.seconds:.3f} s vs tbparse {peer.seconds:.2f} s: "
                f"{x:,.1f}x faster   (target >= {SPEED_TARGET:.0f}x: {verdict})"
            )
    for key in ("a", "b"):
        ours = by.get((key, "ours"))
        if ours is not None:
            verdict = "met" if ours.maxrss_mb <= RSS_TARGET_MB else "MISSED"
            out.append(
                f"  ({key}) ours peak RSS {ours.maxrss_mb:.0f} MB   "
                f"(target <= {RSS_TARGET_MB:.0f} MB: {verdict})"
            )
    out.append(REFERENCE)
    return out


def _child_info() -> dict[str, str]:
    code = (
        "import json; from tbplateau.reader import IMPLEMENTATION as i; "
        "from google.protobuf.internal import api_implementation as a; "
        "print(json.dumps({'implementation': i, 'protobuf': a.Type()}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    info: dict[str, str] = json.loads(out.stdout.strip().splitlines()[-1])
    return info


def _generate_in_child(key: str, quick: bool, data_dir: Path) -> tuple[Path, str]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-generate", key]
    cmd += ["--data-dir", str(data_dir)] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("BENCH ")]
    if out.returncode != 0 or not lines:
        raise SystemExit(f"generating ({key}) failed:\n{out.stderr}{out.stdout}")
    done = json.loads(lines[-1][len("BENCH ") :])
    return Path(done["path"]), str(done["how"])


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "absent"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, same structure")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each peer reader (default 1)")
    ap.add_argument("--repeat-ours", type=int, default=3, help="runs of ours; median (default 3)")
    ap.add_argument("--only", default="a,b,c,d", help="datasets to run, e.g. a,b")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--no-pure", action="store_true", help="skip the pure-Python run on (a)")
    ap.add_argument("--baseline-src", help="also read with PYTHONPATH=DIR (older code)")
    ap.add_argument("--no-peers", action="store_true", help="skip tbparse and TensorBoard")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per child process")
    ap.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    ap.add_argument("--child-tensors", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-sweep", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-generate", metavar="KEY", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child[0], args.child[1], args.child_tensors, args.child_sweep)
    if args.child_generate:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        path, how = ensure_dataset(datasets(args.quick)[args.child_generate], args.data_dir)
        print("BENCH " + json.dumps({"path": str(path), "how": how}), flush=True)
        return 0
    if args.repeat < 1 or args.repeat_ours < 1:
        ap.error("--repeat and --repeat-ours must be at least 1")

    all_ds = datasets(args.quick)
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in keys if k not in all_ds]
    if unknown:
        ap.error(f"unknown dataset(s) {unknown}; choose from a,b,c,d")
    t_start = time.perf_counter()
    data_dir: Path = args.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)

    # This process stays lean (standard library only: generation and every reader run in
    # children), because on Linux a child's ru_maxrss starts from its parent's peak RSS
    # (exec() folds the old address space's high-water mark into it).
    info = _child_info()
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"python {platform.python_version()} on {platform.machine()}, {cpus} CPUs; "
        f"tbplateau {_version('tbplateau')} (scanner: {info['implementation']!r}), "
        f"tbparse {_version('tbparse')}, tensorboard {_version('tensorboard')}, "
        f"protobuf {_version('protobuf')} ({info['protobuf']})"
    )
    base = run_child("baseline", data_dir, None, args.timeout)
    print(f"bare child interpreter: {base.maxrss_mb:.0f} MB peak RSS (included in every RSS)")

    paths: dict[str, Path] = {}
    sizes: dict[str, int] = {}
    for key in keys:
        ds = all_ds[key]
        paths[key], how = _generate_in_child(key, args.quick, data_dir)
        sizes[key] = dataset_bytes(paths[key])
        print(f"{ds.title}: {paths[key]} ({sizes[key] / 2**20:.0f} MB, {how})", flush=True)

    rows: list[Row] = []
    mismatches: list[str] = []
    for key in keys:
        ds = all_ds[key]
        plan = list(_plan(ds, args))
        for reader, label, repeats, pure in plan:
            if reader.endswith("-base"):
                continue  # measured in turn with the reader it is the baseline of
            row = Row(ds, reader, label)
            rows.append(row)
            base_plan = next((p for p in plan if p[0] == reader + "-base"), None)
            base_row = Row(ds, base_plan[0], base_plan[1]) if base_plan else None
            for i in range(repeats):
                if base_row is not None:
                    try:
                        bm = run_child(
                            base_row.reader, paths[key], ds, args.timeout, pure, args.baseline_src
                        )
                        base_row.runs.append(bm)
                        print(
                            f"  ({key}) {base_row.label} #{i + 1}: {bm.points:,} points in "
                            f"{bm.seconds:.3f} s (CPU {bm.info.get('cpu', 0):.3f} s), "
                            f"from {bm.info.get('source')}",
                            flush=True,
                        )
                    except RuntimeError as exc:
                        base_row.error = str(exc).splitlines()[0]
                try:
                    m = run_child(reader, paths[key], ds, args.timeout, pure=pure)
                except RuntimeError as exc:
                    row.error = str(exc).splitlines()[0]
                    print(f"  ({key}) {label}: {exc}", flush=True)
                    break
                row.runs.append(m)
                extra = ""
                if reader.startswith("ours"):
                    extra = f", scanner {m.info.get('implementation')!r}"
                    if m.info.get("read_issues"):
                        extra += f", {m.info['read_issues']} read issues!"
                print(
                    f"  ({key}) {label} #{i + 1}: {m.points:,} points in {m.seconds:.3f} s "
                    f"(+{m.import_seconds:.2f} s imports), peak RSS {m.maxrss_mb:.0f} MB "
                    f"(own VmHWM {m.info.get('vm_hwm_kb', -1) / 1024:.0f} MB){extra}",
                    flush=True,
                )
                if m.points != ds.points:
                    msg = (
                        f"POINT COUNT MISMATCH on ({key}): {label} found {m.points:,} points, "
                        f"{ds.points:,} were written"
                    )
                    mismatches.append(msg)
                    print("!" * 20 + " " + msg + " " + "!" * 20, flush=True)
            if pure and row.runs and row.runs[0].info.get("implementation") != "python":
                row.label += " (NOT pure!)"
            if base_row is not None:
                rows.append(base_row)

    print()
    print(_table(rows, sizes))
    print()
    print("\n".join(_targets(rows, args.quick)))
    if args.baseline_src:
        print()
        print("\n".join(_baseline_lines(rows)))
    if mismatches:
        print()
        print("!" * 78)
        for msg in mismatches:
            print("!! " + msg)
        print("!" * 78)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; this parent's peak RSS {own:.0f} MB")
    failed = any(r.error for r in rows)
    return 1 if mismatches or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
