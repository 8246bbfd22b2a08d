"""Reader benchmark on hostile files: time and peak memory where damage costs the most.

Usage::

    python benchmarks/bench_reader_hostile.py [--big] [--baseline-src DIR] [--dir DIR]

Cases (files written under ``--dir``, default a temporary directory, and deleted after):

* **bogus N MB**: one valid record, then 12 bytes claiming 2**40 bytes (a valid length
  CRC), then N MB of valid records (64 KB ``graph_def`` events, a scalar every 16th);
  N = 64, 256 (and 1024 with ``--big``);
* **garbage N MB**: a valid record, N MB of random bytes, then 100 valid scalar
  records; N = 8 (and 1024 with ``--big``);
* **sparse 2 GB** (``--big``): a valid record, a 2 GB hole (zeros, no disk used), then
  100 valid scalar records.

Each is read by ``read_logdir`` in a fresh interpreter, with the compiled scanner and
with the pure-Python one (``TBPLATEAU_PURE_PYTHON=1``); the pure-Python scanner skips
the 1 GB bogus-length file, whose 64 KB records it would check at numpy speed
(minutes) without saying anything about damage. Wall time and CPU time are measured
around the read in the child; peak RSS is the child's ``ru_maxrss`` (``os.wait4``).
``MB/s`` is the file size over the wall time. Every read must find every point that
was written behind the damage; a mismatch makes the exit status 1.

``--baseline-src DIR`` also runs each case with ``PYTHONPATH=DIR`` (e.g. a checkout of
an older commit with its extension built in place), under ``--baseline-timeout``
seconds (default 60), to compare in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MB = 1 << 20


def _crc() -> Any:
    from tbplateau.reader.scan import _BACKEND

    return _BACKEND.masked_crc32c


def _record(data: bytes) -> bytes:
    crc = _crc()
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", crc(header)) + data + struct.pack("<I", crc(data))


def _bogus_header() -> bytes:
    raw = struct.pack("<Q", 1 << 40)
    return raw + struct.pack("<I", _crc()(raw))


def _scalar(step: int) -> bytes:
    from tensorboard.compat.proto import event_pb2

    ev = event_pb2.Event(wall_time=1000.0 + step, step=step)
    ev.summary.value.add(tag="loss", simple_value=1.0 / (1 + step))
    return _record(ev.SerializeToString())


def _first() -> bytes:
    from tensorboard.compat.proto import event_pb2

    return _record(event_pb2.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString())


def write_case(kind: str, size_mb: int, path: Path) -> int:
    """Write one case; return the number of scalar points a reader must find."""
    from tensorboard.compat.proto import event_pb2

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(size_mb)
    with open(path, "wb") as fh:
        fh.write(_first())
        if kind == "bogus":
            fh.write(_bogus_header())
            graph = _record(
                event_pb2.Event(step=1, graph_def=rng.randbytes(64 << 10)).SerializeToString()
            )
            points = 0
            for i in range(size_mb * MB // len(graph)):
                fh.write(graph)
                if i % 16 == 0:
                    fh.write(_scalar(points))
                    points += 1
            return points
        if kind == "garbage":
            for _ in range(size_mb):
                fh.write(rng.randbytes(MB))
        else:  # sparse: a hole, no disk used
            fh.seek(size_mb * MB, os.SEEK_CUR)
        for step in range(100):
            fh.write(_scalar(step))
    return 100


def child(path: str) -> int:
    from tbplateau import read_logdir
    from tbplateau.reader.scan import IMPLEMENTATION

    w0, c0 = time.perf_counter(), time.process_time()
    logdir = read_logdir(path, workers=1)
    points = sum(len(s) for s in logdir.iter_series())
    w1, c1 = time.perf_counter(), time.process_time()
    issues = [i.message[:160] for i in logdir.read_issues]
    print(
        "BENCH "
        + json.dumps(
            {
                "wall": w1 - w0,
                "cpu": c1 - c0,
                "points": points,
                "impl": IMPLEMENTATION,
                "issues": issues,
            }
        ),
        flush=True,
    )
    return 0


def run_child(path: Path, pure: bool, src: str | None, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("TBPLATEAU_PURE_PYTHON", None)
    if pure:
        env["TBPLATEAU_PURE_PYTHON"] = "1"
    if src:
        env["PYTHONPATH"] = src
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path.parent)]
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
        detail = err.read().decode("utf-8", "replace")[-300:]
    lines = [ln for ln in out.splitlines() if ln.startswith("BENCH ")]
    if proc.returncode != 0 or not lines:
        if proc.returncode == -9:
            return {"error": f"timed out after {timeout:.0f} s"}
        return {"error": f"exit {proc.returncode}", "detail": detail}
    info: dict[str, Any] = json.loads(lines[-1][6:])
    info["rss_mb"] = usage.ru_maxrss / 1024
    return info


def search_speed() -> list[str]:
    """The resynchronisation search alone, on bytes in memory (no file I/O)."""
    import numpy as np

    from tbplateau.reader import _scan_py
    from tbplateau.reader.scan import backend

    rng = np.random.default_rng(0)
    data = {
        "random": rng.integers(0, 256, 256 * MB, dtype=np.uint8).tobytes(),
        "zeros": bytes(256 * MB),
    }
    impls = [("C", backend("c"), 256 * MB), ("pure Python", _scan_py, 64 * MB)]
    out = ["search speed in memory (find() over bytes without a record, CPU time):"]
    for name, impl, size in impls:
        for kind, buf in data.items():
            view = memoryview(buf)[:size]
            c0 = time.process_time()
            impl.find(view, 0)
            cpu = time.process_time() - c0
            out.append(
                f"  {name:<12} {kind:<7} {size // MB} MB: {cpu:.3f} s, {size / MB / cpu:,.0f} MB/s"
            )
    return out


def cases(big: bool) -> Iterator[tuple[str, int]]:
    yield "bogus", 64
    yield "bogus", 256
    if big:
        yield "bogus", 1024
    yield "garbage", 8
    if big:
        yield "garbage", 1024
        yield "sparse", 2048


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also the 1 GB and 2 GB cases")
    ap.add_argument("--baseline-src", help="also run with PYTHONPATH=DIR (older code)")
    ap.add_argument("--baseline-timeout", type=float, default=60.0)
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--dir", type=Path, default=None, help="where to write the files")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child)
    failed = False
    rows: list[str] = []
    header = (
        f"{'case':<14} {'reader':<22} {'wall s':>8} {'cpu s':>8} {'MB/s':>8} {'RSS MB':>7}  points"
    )
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for kind, size in cases(args.big):
            path = Path(tmp) / f"{kind}{size}" / "events.out.tfevents.1.bench"
            want = write_case(kind, size, path)
            mb = path.stat().st_size / MB
            label = f"{kind} {size} MB"
            plan = [("C", False, None, args.timeout)]
            if not (kind == "bogus" and size > 256):
                plan.append(("pure Python", True, None, args.timeout))
            if args.baseline_src:
                plan += [("C, baseline", False, args.baseline_src, args.baseline_timeout)]
                plan += [("pure Py, baseline", True, args.baseline_src, args.baseline_timeout)]
            for name, pure, src, timeout in plan:
                r = run_child(path, pure, src, timeout)
                if "error" in r:
                    line = f"{label:<14} {name:<22} {r['error']}"
                    if src is None:
                        failed = True
                        line += f"  {r.get('detail', '')!r}"
                else:
                    ok = r["points"] == want
                    failed |= not ok and src is None
                    line = (
                        f"{label:<14} {name:<22} {r['wall']:>8.2f} {r['cpu']:>8.2f} "
                        f"{mb / r['wall']:>8.0f} {r['rss_mb']:>7.0f}  {r['points']}/{want}"
                        + ("" if ok else "  MISSING POINTS")
                    )
                    if src is None and r["impl"] != ("python" if pure else "c"):
                        line += f"  (scanner was {r['impl']}!)"
                print(line, flush=True)
                rows.append(line)
            path.unlink()
    print()
    print(header)
    print("\n".join(rows))
    print()
    print("\n".join(search_speed()))
    print(
        "\ntargets: >= 1000 MB/s of damaged bytes with C, >= 20 MB/s in pure Python; "
        "RSS independent of the file size"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
