"""Sweep benchmark: ``report --format jsonl`` serial vs process pool vs Dask, reading, and S3.

Usage::

    python benchmarks/bench_sweep.py [--quick] [--only small,big,flat,read,moto]
                                     [--data-dir DIR] [--keep] [--timeout S]
                                     [--baseline-src DIR] [--moto-runs N]

Sweeps (generated under ``--data-dir``, default a fresh directory in /tmp, deleted at
the end unless ``--keep``; two directory levels, ``gNNN/run_NNNNN``, one event file per
run, written with TensorBoard's protobufs and tbplateau's compiled CRC):

* **small**: 20,000 runs x 2 tags (``train/loss``, ``eval/loss``) x 50 steps;
* **big**: 5,000 runs x 4 tags (those, ``lr``, ``accuracy``) x 500 steps;
* **flat**: small at a tenth of the runs (2,000), to show that the memory of
  ``--format jsonl`` does not grow with the number of runs;
* ``--quick`` divides every run count by 10 (for smoke use; no conclusions).

Measurements, each in a fresh interpreter (``--child``), CPU = user + system time of
that child and every process it waited for (``os.wait4``), so pool and Dask workers
count, less the child's own start-up and imports (measured in it before the work):

* ``report LOGDIR --format jsonl`` with ``--workers 1`` (serial, in process),
  ``--workers 2`` (a process pool) and ``--dask local:2``: the real CLI (``main()``),
  output to a file. Reported: wall, CPU, the client's own peak RSS (``VmHWM``) and
  the largest worker's (``RUSAGE_CHILDREN``), and, from the sweep's own counters,
  the seconds spent reading and analysing summed over workers;
* reading only (the **read** table, on *small*): ``read_logdir(workers=1)``, the
  same with ``--baseline-src DIR`` (older code, e.g. ``main``, run in the same
  invocation), the sweep's reading (listing, then each task's ``read_runs``, serial,
  no analysis), and TensorBoard's Rust data server (``tensorboard-data-server``,
  ``--reload once``, stopped when it logs the end of its load cycle);
* on a moto S3 server on 127.0.0.1 (the **moto** table; *small* cut to 2,000 runs, 200
  with ``--quick``): ``read_logdir("s3://...")`` (and with the baseline source), the
  sweep's serial read, and ``report --format jsonl --workers 2``, with the LIST, GET
  and HEAD requests the server saw. The server runs in this process, sharing the CPUs.

Ratios are printed against the serial run measured in the same invocation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

RSS_TARGET_MB = 300.0
"""Peak RSS of ``report --format jsonl``, client and each worker."""


# --------------------------------------------------------------------------- datasets


@dataclass(frozen=True)
class Sweep:
    key: str
    runs: int
    tags: tuple[str, ...]
    steps: int

    @property
    def title(self) -> str:
        return f"{self.key}: {self.runs:,} runs x {len(self.tags)} tags x {self.steps}"

    @property
    def series(self) -> int:
        return self.runs * len(self.tags)


def sweeps(quick: bool) -> dict[str, Sweep]:
    div = 10 if quick else 1
    two = ("train/loss", "eval/loss")
    four = (*two, "lr", "accuracy")
    return {
        "small": Sweep("small", 20_000 // div, two, 50),
        "big": Sweep("big", 5_000 // div, four, 500),
        "flat": Sweep("flat", 2_000 // div, two, 50),
    }


def run_name(i: int) -> str:
    return f"g{i // 100:03d}/run_{i:05d}"


def generate(sw: Sweep, root: Path) -> Path:
    """Write ``sw`` under ``root / sw.key`` (reused when complete)."""
    from bench_reader import _write_scalar_file

    path = root / sw.key
    marker = path / ".complete"
    if marker.exists():
        return path
    t0 = time.perf_counter()
    for i in range(sw.runs):
        _write_scalar_file(path / run_name(i), i, list(sw.tags), sw.steps, seed=i, tensors=False)
    marker.write_text("ok\n")
    print(f"  generated {sw.title} in {time.perf_counter() - t0:.1f} s", flush=True)
    return path


# --------------------------------------------------------------------------- children


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return -1.0


def _stats_dict(stats: Any) -> dict[str, Any]:
    keys = ("workers", "tasks", "runs", "series", "points", "nbytes", "read_s", "analyze_s")
    out = {k: getattr(stats, k) for k in keys}
    out.update(worker_cpu_s=stats.worker_cpu_s, failed=stats.failed_groups + stats.failed_tasks)
    return out


def child_report(path: str, out: str, extra: list[str]) -> dict[str, Any]:
    """The real CLI; the sweep's counters are read from the Sweep it created."""
    import tbplateau.cli._sweep as cli_sweep
    from tbplateau.cli import main
    from tbplateau.sweep import Sweep as SweepEngine

    seen: list[SweepEngine] = []

    class Recorded(SweepEngine):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self)

    vars(cli_sweep)["Sweep"] = Recorded  # the CLI builds this one: its counters are ours
    from rich.console import Console

    t0 = time.perf_counter()
    with open(out, "w", encoding="utf-8") as fh:
        code = main(["report", path, "--format", "jsonl", *extra], stdout=Console(file=fh))
    seconds = time.perf_counter() - t0
    if code != 0:
        raise SystemExit(f"report exited {code}")
    with open(out, encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    return {"seconds": seconds, "lines": lines, "stats": _stats_dict(seen[0].stats)}


def child_read_logdir(path: str) -> dict[str, Any]:
    from tbplateau.reader import read_logdir

    t0 = time.perf_counter()
    logdir = read_logdir(path, workers=1)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "points": sum(r.points for r in logdir.runs)}


def child_sweep_read(path: str) -> dict[str, Any]:
    """The sweep's reading alone: listing, then each task's runs read here."""
    from tbplateau.sweep import list_logdir, plan_tasks
    from tbplateau.sweep._task import Task, _read

    t0 = time.perf_counter()
    listing = list_logdir(path)
    t_list = time.perf_counter() - t0
    points = 0
    for i, groups in enumerate(plan_tasks(listing)):
        task = Task(i, listing.root, listing.local, groups)
        points += sum(r.points for r in _read(task, [r for g in groups for r in g]).values())
    return {"seconds": time.perf_counter() - t0, "list_s": t_list, "points": points}


def child_main(kind: str, path: str, out: str, extra: list[str]) -> int:
    import tbplateau.cli

    with contextlib.suppress(ImportError):  # older code (--baseline-src) has no sweep
        import tbplateau.sweep  # noqa: F401
    import_cpu = time.process_time()
    if kind == "report":
        info = child_report(path, out, extra)
    elif kind == "read_logdir":
        info = child_read_logdir(path)
    elif kind == "sweep_read":
        info = child_sweep_read(path)
    else:
        raise SystemExit(f"unknown child {kind!r}")
    info["import_cpu"] = import_cpu
    info["client_mb"] = _vm_hwm_mb()
    info["workers_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    sys.stdout.write("BENCH " + json.dumps(info) + "\n")
    return 0


# --------------------------------------------------------------------------- parent side


@dataclass
class Result:
    label: str
    wall: float = float("nan")
    cpu: float = float("nan")
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_child(
    label: str,
    kind: str,
    path: Path | str,
    out: Path,
    extra: list[str],
    timeout: float,
    src: str | None = None,
) -> Result:
    """One measurement in a fresh interpreter; ``src`` puts older code first on the path."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(path), str(out)]
    cmd += ["--", *extra]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = src
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=ROOT, env=env)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            text = proc.stdout.read().decode("utf-8", "replace")
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        err.seek(0)
        err_text = err.read().decode("utf-8", "replace")
    lines = [ln for ln in text.splitlines() if ln.startswith("BENCH ")]
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        tail = "\n".join((err_text + text).strip().splitlines()[-12:])
        return Result(label, error=f"failed (status {status}):\n{tail}")
    info = json.loads(lines[-1][len("BENCH ") :])
    # CPU of the work: every process's, less the child's start-up and imports
    return Result(label, wall, usage.ru_utime + usage.ru_stime - info["import_cpu"], info)


def run_rust_server(path: Path, timeout: float) -> Result:
    """TensorBoard's Rust data server: one load cycle of ``path``; CPU from wait4."""
    try:
        import tensorboard_data_server
    except ImportError:
        return Result("rust data server", error="tensorboard-data-server is not installed")
    server = Path(tensorboard_data_server.__file__).parent / "bin" / "server"
    if not server.exists():
        return Result("rust data server", error=f"no server binary at {server}")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            str(server),
            "--logdir",
            str(path),
            "--reload",
            "once",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
            str(Path(tmp) / "port"),
            "--samples-per-plugin",
            "scalars=all",
            "-v",
        ]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        load = None
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                if "Finished load cycle" in line:
                    load = line.rsplit("(", 1)[-1].rstrip(")\n")
                    break
            wall = time.perf_counter() - t0
            proc.send_signal(signal.SIGTERM)
            proc.stderr.close()
            _, _, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
    if load is None:
        return Result("rust data server", error="no 'Finished load cycle' line")
    return Result(
        "rust data server",
        wall,
        usage.ru_utime + usage.ru_stime,
        {"load": load, "client_mb": usage.ru_maxrss / 1024.0},
    )


def _ratio(x: float, base: float) -> str:
    return f"{x / base:5.2f}x" if base and base == base and x == x else "   - "


def report_table(title: str, results: list[Result], base: Result, per: int) -> None:
    print(f"\n## {title}")
    print(
        f"{'':32} {'wall s':>8} {'ratio':>6} {'CPU s':>8} {'ratio':>6} {'client MB':>9} "
        f"{'worker MB':>9} {'read s':>7} {'analyse s':>9} {'ms/run':>7}"
    )
    for r in results:
        if r.error:
            print(f"{r.label:32} {r.error}")
            continue
        st = r.info.get("stats", {})
        read_s = st.get("read_s", r.info.get("seconds", float("nan")))
        ana_s = st.get("analyze_s", float("nan"))
        print(
            f"{r.label:32} {r.wall:8.1f} {_ratio(r.wall, base.wall):>6} {r.cpu:8.1f} "
            f"{_ratio(r.cpu, base.cpu):>6} {r.info.get('client_mb', float('nan')):9.0f} "
            f"{r.info.get('workers_mb', 0.0):9.0f} {read_s:7.1f} {ana_s:9.1f} "
            f"{1000 * r.cpu / per:7.2f}"
        )


def bench_reports(sw: Sweep, path: Path, work: Path, timeout: float) -> list[Result]:
    modes = [
        ("serial (--workers 1)", ["--workers", "1"]),
        ("process pool (--workers 2)", ["--workers", "2"]),
        ("dask (--dask local:2)", ["--dask", "local:2"]),
    ]
    results = []
    for label, extra in modes:
        r = run_child(label, "report", path, work / "out.jsonl", extra, timeout)
        if not r.error and r.info["lines"] != sw.runs:
            r.error = f"{r.info['lines']} lines for {sw.runs} runs"
        results.append(r)
        print(f"  {sw.key} {label}: {r.wall:.1f} s wall, {r.cpu:.1f} s CPU", flush=True)
    report_table(f"report --format jsonl, {sw.title}", results, results[0], sw.runs)
    ok = [r for r in results if not r.error]
    if ok:
        st = ok[0].info["stats"]
        print(
            f"per run (serial): read {1000 * st['read_s'] / sw.runs:.2f} ms, analysis "
            f"{1000 * st['analyze_s'] / sw.series:.2f} ms per series "
            f"({st['series']:,} series, {st['points']:,} points, {st['nbytes'] / 1e6:.0f} MB)"
        )
        worst = max(max(r.info["client_mb"], r.info["workers_mb"]) for r in ok)
        verdict = "meets" if worst < RSS_TARGET_MB else "MISSES"
        print(f"peak RSS {worst:.0f} MB: {verdict} the < {RSS_TARGET_MB:.0f} MB target")
    return results


def bench_read(sw: Sweep, path: Path, work: Path, timeout: float, base: str | None) -> None:
    x = work / "x"
    results = [run_child("read_logdir (workers=1)", "read_logdir", path, x, [], timeout)]
    if base:
        results.append(
            run_child("read_logdir, baseline src", "read_logdir", path, x, [], timeout, base)
        )
    results.append(run_child("sweep read (list + read_runs)", "sweep_read", path, x, [], timeout))
    rust = run_rust_server(path, timeout)
    results.append(rust)
    ours = [r for r in results if r is not rust and not r.error]
    points = {r.info.get("points") for r in ours}
    report_table(f"reading only, {sw.title}", results, results[0], sw.runs)
    if len(points) > 1:
        print(f"POINT COUNTS DIFFER: {points}")
    if not rust.error:
        print(f"rust data server's own load cycle: {rust.info['load']} (wall, as it logs it)")
        for r in ours:
            print(f"{r.label}: {r.cpu / rust.cpu:.2f}x the Rust server's CPU")


@contextlib.contextmanager
def _moto(work: Path) -> Iterator[Any]:
    from tests.sweep.s3server import moto_s3

    with moto_s3() as s3:
        saved = {k: os.environ.get(k) for k in s3.env}
        os.environ.update(s3.env)
        try:
            yield s3
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def bench_moto(
    sw: Sweep, path: Path, work: Path, timeout: float, runs: int, base: str | None
) -> None:
    import s3fs

    with _moto(work) as s3:
        fs = s3fs.S3FileSystem()
        fs.mkdir("bench")
        t0 = time.perf_counter()
        groups = sorted({run_name(i).split("/")[0] for i in range(runs)})
        n = 0
        for g in groups:
            for run in sorted((path / g).iterdir()):
                if n < runs:
                    fs.put(str(run), f"bench/sweep/{g}/{run.name}", recursive=True)
                    n += 1
        print(f"  uploaded {n:,} runs to moto in {time.perf_counter() - t0:.1f} s", flush=True)
        url = "s3://bench/sweep"
        plan: list[tuple[str, str, list[str], str | None]] = [
            ("read_logdir (serial)", "read_logdir", [], None),
            ("sweep read (serial)", "sweep_read", [], None),
            ("report --format jsonl --workers 2", "report", ["--workers", "2"], None),
        ]
        if base:
            plan.insert(0, ("read_logdir, baseline src (serial)", "read_logdir", [], base))
        rows = []
        for label, kind, extra, src in plan:
            s3.requests.clear()
            r = run_child(label, kind, url, work / "s3.jsonl", extra, timeout, src)
            rows.append((r, s3.requests.lists(), s3.requests.gets(), s3.requests.heads()))
        print(f"\n## on moto S3 (127.0.0.1), {n:,} runs of {sw.title}")
        print(f"{'':36} {'wall s':>8} {'CPU s':>8} {'LIST':>6} {'GET':>7} {'HEAD':>6}")
        for r, lists, gets, heads in rows:
            if r.error:
                print(f"{r.label:36} {r.error}")
            else:
                print(f"{r.label:36} {r.wall:8.1f} {r.cpu:8.1f} {lists:6} {gets:7} {heads:6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="small,big,flat,read,moto")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated sweeps")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--moto-runs", type=int, default=None)
    parser.add_argument(
        "--baseline-src",
        help="also read with PYTHONPATH=DIR (an older checkout, extension built in place)",
    )
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("extra", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, path, out = args.child
        return child_main(kind, path, out, args.extra)
    only = set(args.only.split(","))
    data = args.data_dir or Path(tempfile.mkdtemp(prefix="tbplateau-bench-sweep-"))
    data.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tbplateau-bench-out-"))
    print(f"# bench_sweep ({'quick' if args.quick else 'full'}); {os.cpu_count()} CPUs; {data}")
    try:
        all_sweeps = sweeps(args.quick)
        for key in ("small", "big", "flat"):
            if key in only or (key == "small" and only & {"read", "moto"}):
                generate(all_sweeps[key], data)
        for key in ("small", "big", "flat"):
            if key in only:
                bench_reports(all_sweeps[key], data / key, work, args.timeout)
        if "read" in only:
            bench_read(all_sweeps["small"], data / "small", work, args.timeout, args.baseline_src)
        if "moto" in only:
            runs = args.moto_runs or (200 if args.quick else 2_000)
            bench_moto(
                all_sweeps["small"], data / "small", work, args.timeout, runs, args.baseline_src
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
