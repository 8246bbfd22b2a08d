"""``benchmarks/bench_quality.py`` prints aggregate tables only for the test split by default."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_quality.py"


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
