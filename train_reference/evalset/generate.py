"""Generate the evaluation set: ``python -m train_reference.evalset.generate --out evalset/real``.

Each run of :mod:`train_reference.evalset.scenarios` is trained and logged live by its writer into
``OUT/<name>/``, then labelled from the event files read back (:mod:`.labelling`) and its
``labels.json`` written. ``--only NAME ...`` and ``--ci`` (a representative handful) select runs;
``--jobs N`` trains N at a time in separate processes. ``--pool`` makes the tuning pool instead
(:func:`~train_reference.evalset.scenarios.pool_specs`; 760 runs, not committed:
``--pool --quick --jobs 16 --out ../tuning-pool``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

from train_reference.common import reset_dir
from train_reference.evalset.labelling import Layout, derive, events_of, spec_from_json
from train_reference.evalset.scenarios import CI_SUBSET, all_specs, pool_specs, split_of
from train_reference.evalset.spec import RunSpec

SCHEMA = "tbplateau.train_reference.labels/1"
FRAMEWORK = {
    "torch_scalar": ("pytorch", "torch.utils.tensorboard.SummaryWriter.add_scalar"),
    "torch_scalars": ("pytorch", "torch.utils.tensorboard.SummaryWriter.add_scalars"),
    "tensorboardx": ("pytorch", "tensorboardX.SummaryWriter"),
    "tf_summary": ("pytorch model, tensorflow writer", "tf.summary (create_file_writer)"),
    "keras": ("keras", "keras.callbacks.TensorBoard"),
    "lightning": ("pytorch-lightning", "lightning.pytorch.loggers.TensorBoardLogger"),
    "hf_trainer": ("huggingface-transformers", "transformers.Trainer (TensorBoardCallback)"),
    "flax": ("jax/flax", "flax.metrics.tensorboard.SummaryWriter"),
}


def _torch_run(spec: RunSpec, root: Path) -> tuple[Layout, dict[str, int], str, dict[str, Any]]:
    from train_reference.evalset.data import load
    from train_reference.evalset.torch_engine import train
    from train_reference.evalset.writers import open_sink, series_name

    data = load(spec.dataset, spec.seed, train_size=spec.train_size)
    prefix = {"torch_scalar": "runs/", "torch_scalars": "runs/", "tensorboardx": "logs/"}
    run = prefix.get(spec.writer, "") + f"{spec.dataset}_{spec.model}_{spec.optimizer}"

    def opener(session: int) -> Any:
        if session:
            time.sleep(1.1)  # a second session's file gets a later name
        return open_sink(spec.writer, root / run)

    info = train(spec, data, opener)
    keys = ["train/loss", "val/loss", "train/lr"]
    if data.task == "class":
        keys += ["train/accuracy", "val/accuracy"]
    if spec.per_step:
        keys.remove("train/accuracy") if "train/accuracy" in keys else None
    series = {k: series_name(spec.writer, run, *k.split("/")) for k in keys}
    spe = int(info["steps_per_epoch"]) if spec.per_step else 1
    layout = Layout(series, dict.fromkeys(keys, spe), {})
    sizes = {"train": len(data.x_train), "val": len(data.x_val)}
    conv = (
        "step = global optimizer step (0-based): training loss every step, validation at the "
        "last step of each epoch"
        if spec.per_step
        else "step = epoch index (0-based)"
    )
    return layout, sizes, conv, info


def run_one(spec: RunSpec, out: Path) -> dict[str, Any]:
    """Train, write and label one run; return its ``labels.json`` document."""
    root = reset_dir(out / spec.name)
    t0 = time.perf_counter()
    if spec.writer in ("keras", "lightning", "hf_trainer", "flax"):
        from train_reference.evalset import native

        layout, sizes, conv, info = native.run(spec, root)
    else:
        layout, sizes, conv, info = _torch_run(spec, root)
    labels, complete, notes = derive(root, spec, layout, sizes)
    framework, writer = FRAMEWORK[spec.writer]
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "evalset": 1,
        "scenario": spec.scenario,
        "framework": framework,
        "writer": writer,
        "step_convention": conv,
        "seed": spec.seed,
        "split": split_of(spec.seed),
        "spec": spec.to_json(),
        "layout": layout.to_json(),
        "sizes": sizes,
        "events": [{"epoch": e, "what": w} for e, w in events_of(spec)],
        "labels": labels,
        "negatives": [],
        "complete": complete,
        "notes": notes,
    }
    if info.get("resumed_from") is not None:
        doc["notes"].append(
            f"crashed (non-finite loss) in epoch {info['crashed_at']}; resumed by a second writer "
            f"session from the checkpoint taken before epoch {info['resumed_from']}: the steps "
            "between are written twice and the newest write wins"
        )
        doc["resumed"] = {
            "runs": sorted({r for r, _ in layout.series.values()}),
            "event_files_per_run": 2,
        }
    (root / "labels.json").write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    doc["seconds"] = round(time.perf_counter() - t0, 1)
    return doc


def relabel(root: Path) -> dict[str, Any]:
    """Derive the labels of an already written logdir again (after a change of the rules)."""
    doc: dict[str, Any] = json.loads((root / "labels.json").read_text())
    spec = spec_from_json(doc["spec"])
    labels, complete, notes = derive(root, spec, Layout.from_json(doc["layout"]), doc["sizes"])
    kept = [n for n in doc["notes"] if n.startswith("crashed")]
    doc.update(labels=labels, complete=complete, notes=notes + kept)
    (root / "labels.json").write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return doc


def _work(args: tuple[RunSpec, Path]) -> tuple[str, int, float]:
    spec, out = args
    with contextlib.redirect_stdout(sys.stderr):
        doc = run_one(spec, out)
    return spec.name, len(doc["labels"]), doc["seconds"]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m train_reference.evalset.generate", description=__doc__
    )
    ap.add_argument("--out", type=Path, default=Path("evalset/real"))
    ap.add_argument("--quick", action="store_true", help="CPU-sized runs (the committed set)")
    ap.add_argument("--only", nargs="*", default=None, metavar="NAME")
    ap.add_argument("--ci", action="store_true", help="only the representative CI subset")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-native", action="store_true", help="torch writers only (no keras/...)")
    ap.add_argument(
        "--relabel", action="store_true", help="only derive the labels of OUT/* again (no training)"
    )
    ap.add_argument("--pool", action="store_true", help="the tuning pool, not the set")
    args = ap.parse_args(argv)
    if args.relabel:
        for labels_file in sorted(args.out.glob("*/labels.json")):
            doc = relabel(labels_file.parent)
            print(f"{labels_file.parent.name}: {len(doc['labels'])} labels", file=sys.stderr)
        return 0
    specs = (
        pool_specs(args.quick) if args.pool else all_specs(args.quick, natives=not args.no_native)
    )
    if args.list:
        for s in specs:
            print(
                f"{s.name:28s} {split_of(s.seed):4s} {s.writer:14s} {s.dataset:13s} {s.optimizer}"
            )
        return 0
    names = set(args.only or []) | (set(CI_SUBSET) if args.ci else set())
    if names:
        unknown = names - {s.name for s in specs}
        if unknown:
            print(f"unknown run(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        specs = [s for s in specs if s.name in names]
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    jobs = [(s, args.out) for s in specs]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            results = list(pool.map(_work, jobs))
    else:
        results = [_work(j) for j in jobs]
    for name, n, sec in results:
        print(f"{name}: {n} labels, {sec} s", file=sys.stderr)
    print(json.dumps({"runs": len(results), "seconds": round(time.perf_counter() - t0, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
