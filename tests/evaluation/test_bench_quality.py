"""``benchmarks/bench_quality.py`` prints aggregate tables only for the test split by default."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_quality.py"
EVALSET = Path(__file__).resolve().parents[2] / "evalset" / "real"


def _main() -> Callable[[list[str]], int]:
    spec = importlib.util.spec_from_file_location("bench_quality", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_quality"] = module
    spec.loader.exec_module(module)
    main: Callable[[list[str]], int] = module.main
    return main


@pytest.mark.slow
def test_test_split_cases_are_not_printed_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    main = _main()
    args = ["--split", "test", "--no-rules", "--scale", "0.25", "--kind", "nonfinite"]
    assert main([*args, "--show-cases"]) == 0
    out = capsys.readouterr().out
    assert "test · combined" in out
    assert "reliability" in out
    assert "  label " not in out  # no per-case lines for the test split
    assert main([*args, "--show-test-cases"]) == 0
    assert "  label " in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not (EVALSET / "lr_raise_s00").is_dir(), reason="no evalset/real")
def test_a_tuning_pool_is_scored_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main = _main()
    for src, seed in (("lr_raise_s00", 600), ("edge_of_stability_s01", 601)):
        dst = tmp_path / f"run_s{seed}"
        shutil.copytree(EVALSET / src, dst)
        doc = json.loads((dst / "labels.json").read_text())
        doc.update(seed=seed, split="pool")
        (dst / "labels.json").write_text(json.dumps(doc))
    args = ["--split", "dev", "--no-rules", "--scale", "0.25", "--kind", "divergence"]
    assert main([*args, "--pool", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== pool ===" in out
    assert "pool · real runs: 2 cases" in out
    with pytest.raises(SystemExit):  # a missing or empty folder is no pool
        main([*args, "--pool", str(EVALSET.parent / "missing")])
