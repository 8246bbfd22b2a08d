"""The tab on every logdir, one TensorBoard per logdir and loader: does it agree with ``analyze``?

Usage (from the repository root)::

    python -m tests.plugin.check_logdirs [--loader true|false ...] [LOGDIR ...]

Without LOGDIR: every fixture in ``fixtures/`` and every project in
``../shared/realworld``. For each, a real ``tensorboard --logdir LOGDIR`` is started on
127.0.0.1 (``--port 0``) with each ``--load_fast`` value, the tab's report route is
fetched once its first analysis is done, and its ``report`` is compared with
``tbplateau.analyze(LOGDIR).to_dict()``. One line per logdir and loader; the exit
status is 1 if any differs or fails. (The slow tests do the same on the two roots at
once; this script is the thorough pass, about 5 s per logdir and loader.)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tbplateau.analysis import analyze
from tests.plugin.support import fixture_logdirs, realworld_logdirs, tensorboard


def check(logdir: Path, loader: str, work: Path) -> tuple[bool, str]:
    start = time.perf_counter()
    expected = analyze(logdir).to_dict()
    args = ["--logdir", str(logdir), f"--load_fast={loader}", "--reload_interval", "0"]
    with tensorboard(args, work / f"{logdir.name}-{loader}.log") as tb:
        doc = tb.report(timeout=300, advised=False)
    ok = doc["report"] == expected
    runs = expected["runs"]
    series = sum(len(r["series"]) for r in runs)
    findings = sum(len(s["findings"]) for r in runs for s in r["series"]) + sum(
        len(r["findings"]) for r in runs
    )
    issues = sum(len(r["read_issues"]) for r in runs)
    what = (
        f"{len(runs):3d} runs {series:4d} series {findings:3d} findings {issues:2d} read issues"
        f"  {time.perf_counter() - start:5.1f} s"
    )
    return ok, what


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("logdirs", nargs="*", type=Path)
    ap.add_argument("--loader", action="append", choices=["true", "false"])
    args = ap.parse_args(argv)
    logdirs = args.logdirs or [*fixture_logdirs(), *realworld_logdirs()]
    loaders = args.loader or ["true", "false"]
    work = Path(tempfile.mkdtemp(prefix="tbplateau-tab-check-"))
    failed = 0
    for logdir in logdirs:
        for loader in loaders:
            try:
                ok, what = check(logdir, loader, work)
            except (AssertionError, OSError) as exc:
                ok, what = False, f"failed: {str(exc).splitlines()[0]}"
            failed += not ok
            print(f"{'ok  ' if ok else 'DIFF'} load_fast={loader:<5} {logdir.name:<50} {what}")
    print(f"{len(logdirs) * len(loaders) - failed} agree, {failed} differ or failed (logs: {work})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
