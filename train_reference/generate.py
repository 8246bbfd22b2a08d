"""Regenerate every reference logdir: ``python -m train_reference.generate [--quick] --out DIR``."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from train_reference.common import Logdir

# module -> its SCENARIOS registry; each module imports its own framework
MODULES = ("train_reference.keras_runs", "train_reference.torch_runs", "train_reference.jax_runs")


def scenarios() -> dict[str, Callable[[Path, bool], Logdir]]:
    """Every scenario of every module whose framework imports, in a fixed order."""
    out: dict[str, Callable[[Path, bool], Logdir]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        out.update(module.SCENARIOS)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train_reference.generate", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("fixtures"), help="where the logdirs go")
    parser.add_argument("--quick", action="store_true", help="CPU-sized runs (a few minutes)")
    parser.add_argument("--only", nargs="*", default=None, metavar="NAME", help="scenarios to run")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = parser.parse_args(argv)
    registry = scenarios()
    if args.list:
        print("\n".join(registry))
        return 0
    chosen = args.only or list(registry)
    unknown = sorted(set(chosen) - set(registry))
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for name in chosen:
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):  # frameworks print; stdout stays JSON
            log = registry[name](args.out, args.quick)
        log.write()
        timings[name] = round(time.perf_counter() - t0, 1)
        print(
            f"{name}: {len(log.labels)} labels, {len(log.negatives)} negatives, {timings[name]} s",
            file=sys.stderr,
        )
    print(json.dumps({"mode": "quick" if args.quick else "full", "seconds": timings}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
