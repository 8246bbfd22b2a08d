"""Sweeps on object storage for real: a moto S3 server on 127.0.0.1, read with s3fs."""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from tbplateau import analyze
from tbplateau.cli import EXIT_OK, main
from tbplateau.reader import read_logdir
from tbplateau.sweep import LocalPool, Sweep
from tests.sweep.layouts import make_sweep
from tests.sweep.s3server import S3, SECRET, moto_s3

s3fs = pytest.importorskip("s3fs")
pytest.importorskip("moto")

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample"


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    local = make_sweep(tmp_path_factory.mktemp("sweep"))
    with moto_s3() as server, pytest.MonkeyPatch.context() as mp:
        for key, value in server.env.items():
            mp.setenv(key, value)
        s3fs.S3FileSystem.clear_instance_cache()
        fs = s3fs.S3FileSystem()
        fs.mkdir("bucket")  # moto keeps its buckets for the whole test process
        fs.put(str(local), "bucket/sweep", recursive=True)
        fs.put(str(SAMPLE), "bucket/sample", recursive=True)
        server.local = local  # type: ignore[attr-defined]
        yield server
        s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(autouse=True)
def _fresh_s3fs(s3: S3) -> None:
    s3fs.S3FileSystem.clear_instance_cache()  # no listing cached by an earlier test
    s3.requests.clear()


def _report(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["report", *argv],
        stdout=Console(file=out, width=120, color_system=None),
        stderr=Console(file=err, width=120, color_system=None),
    )
    assert code == EXIT_OK, err.getvalue()
    return code, out.getvalue()


def _local_runs(path: Path) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = analyze(path).to_dict()["runs"]
    return runs


def test_the_s3_report_equals_the_local_one(s3: S3) -> None:
    local: Path = s3.local  # type: ignore[attr-defined]
    _, text = _report(["s3://bucket/sweep", "--format", "json", "--workers", "1"])
    doc = json.loads(text)
    assert doc["logdir"] == "s3://bucket/sweep"
    assert doc["runs"] == _local_runs(local)


def test_the_process_pool_reads_s3_with_the_workers_environment(s3: S3) -> None:
    with LocalPool(2) as pool:
        report = analyze("s3://bucket/sample", client=pool)
    assert report.to_dict()["runs"] == _local_runs(SAMPLE)


def test_the_listing_is_flat_and_every_file_is_fetched_once(s3: S3) -> None:
    local: Path = s3.local  # type: ignore[attr-defined]
    files = sorted(p for p in local.rglob("*") if "tfevents" in p.name)
    directories = {p.parent for p in files}
    sweep = Sweep("s3://bucket/sweep")
    listed = s3.requests.lists()
    list(sweep.texts())
    assert listed <= 2  # one paginated listing (and the existence check of the root)
    assert s3.requests.lists() == listed  # workers list nothing: the runs came with the task
    # one GET a file, none for the object listed as empty
    empty = sum(1 for p in files if p.stat().st_size == 0)
    assert empty == 1
    assert s3.requests.gets() == len(files) - empty
    assert len(directories) > 40  # a walk would have listed each
    s3.requests.clear()
    s3fs.S3FileSystem.clear_instance_cache()
    logdir = read_logdir("s3://bucket/sweep")  # the reader lists flat too
    assert s3.requests.lists() <= 2
    assert s3.requests.heads() == 0  # sizes come with the listing
    assert s3.requests.gets() == len(files) - empty
    assert analyze(logdir).to_dict()["runs"] == _local_runs(local)


def test_a_manifest_skips_the_listing(s3: S3, tmp_path: Path) -> None:
    manifest = tmp_path / "runs.txt"
    manifest.write_text("# two runs\nkeras/train\nkeras/validation\n")
    _, text = _report(["s3://bucket/sample", "--runs-from", str(manifest), "--format", "jsonl"])
    got = [json.loads(line) for line in text.splitlines()]
    assert got == [r for r in _local_runs(SAMPLE) if r["run"].startswith("keras/")]
    assert s3.requests.lists() <= 3  # the root's existence, then one per run directory


def test_tasks_carry_no_credentials(s3: S3) -> None:
    sweep = Sweep("s3://bucket/sweep")
    blob = pickle.dumps(sweep.tasks)
    assert SECRET.encode() not in blob
    assert b"sweep-test-key" not in blob
    assert all(t.root == "s3://bucket/sweep" for t in sweep.tasks)
