"""Sweeps on a real Dask cluster: a LocalCluster of 2 worker processes on 127.0.0.1.

The key invariant: ``report --dask ... --format json`` is byte-identical to the serial
``report --format json``, for every fixture and for a generated sweep.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import tbplateau
from tbplateau import analyze
from tbplateau.cli import EXIT_OK, main
from tbplateau.errors import TbplateauError
from tbplateau.sweep import Sweep
from tests.sweep.layouts import Boom, detectors_with, make_sweep
from tests.sweep.s3server import moto_s3

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = sorted(p for p in (ROOT / "fixtures").iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sweep(tmp_path_factory.mktemp("sweep"), size=4)


def _report(argv: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["report", *argv],
        stdout=Console(file=out, width=120, color_system=None),
        stderr=Console(file=err, width=120, color_system=None),
    )
    assert code == EXIT_OK, err.getvalue()
    return out.getvalue()


def test_every_fixture_gives_the_same_bytes_on_dask(client: Any, sweep_dir: Path) -> None:
    address = client.scheduler.address
    for path in [*FIXTURES, sweep_dir]:
        serial = _report([str(path), "--format", "json"])
        assert _report([str(path), "--format", "json", "--dask", address]) == serial, path
        lines = _report([str(path), "--format", "jsonl", "--dask", address]).splitlines()
        assert [json.loads(line) for line in lines] == json.loads(serial)["runs"], path


def test_dask_local_starts_its_own_cluster_on_localhost(sweep_dir: Path) -> None:
    serial = _report([str(sweep_dir), "--format", "json"])
    assert _report([str(sweep_dir), "--format", "json", "--dask", "local:2"]) == serial


def test_a_failing_group_on_dask_is_a_read_issue(client: Any, sweep_dir: Path) -> None:
    dets = detectors_with(Boom(run="lr_01/validation"))
    got = analyze(str(sweep_dir), client=client, detectors=dets).to_dict()["runs"]
    serial = analyze(sweep_dir).to_dict()["runs"]
    assert [r["run"] for r in got] == [r["run"] for r in serial]
    for mine, theirs in zip(got, serial, strict=True):
        if mine["run"].startswith("lr_01/"):
            assert mine["series"] == []
            assert "boom in lr_01/validation" in mine["read_issues"][-1]["message"]
        else:
            assert mine == theirs


def test_dask_workers_of_another_version_are_refused(
    client: Any, sweep_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tbplateau, "__version__", "0.0.0-here")  # not in the workers
    with pytest.raises(TbplateauError, match=r"but 0\.1\.0 .* on Dask worker tcp://127\.0\.0\.1:"):
        list(Sweep(sweep_dir, client=client).texts())


def _setenv(env: dict[str, str]) -> None:
    os.environ.update(env)


def test_dask_workers_read_s3_with_their_own_credentials(client: Any) -> None:
    s3fs = pytest.importorskip("s3fs")
    sample = ROOT / "fixtures" / "sample"
    with moto_s3() as s3, pytest.MonkeyPatch.context() as mp:
        for key, value in s3.env.items():
            mp.setenv(key, value)
        s3fs.S3FileSystem.clear_instance_cache()
        fs = s3fs.S3FileSystem()
        fs.mkdir("dask-bucket")  # moto keeps its buckets for the whole test process
        fs.put(str(sample), "dask-bucket/sample", recursive=True)
        # the workers get the endpoint and keys from their environment, not from the task
        client.run(_setenv, dict(s3.env))
        report = analyze("s3://dask-bucket/sample", client=client)
        s3fs.S3FileSystem.clear_instance_cache()
    assert report.to_dict()["runs"] == analyze(sample).to_dict()["runs"]
