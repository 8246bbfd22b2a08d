"""The "improves to its end" rule of ``benchmarks/realworld_false_alarms.py``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "realworld_false_alarms", ROOT / "benchmarks" / "realworld_false_alarms.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["realworld_false_alarms"] = module
    spec.loader.exec_module(module)
    return module


def test_improves_to_end() -> None:
    rule = _module().improves_to_end
    rng = np.random.default_rng(0)
    t = np.arange(200)
    falling = np.exp(-t / 150) + 0.01 * rng.standard_normal(200)
    assert rule(falling, "min")
    assert rule(-falling, "max")
    assert not rule(falling, None)
    flat_end = np.where(t < 100, np.exp(-t / 20), np.exp(-5)) + 0.001 * rng.standard_normal(200)
    assert not rule(flat_end, "min")  # best value anywhere in a noisy floor, no trend
    rising = falling[::-1]
    assert not rule(rising, "min")
    assert not rule(falling[:15], "min")  # too short


def test_lists_findings_on_the_real_corpus() -> None:
    corpus = ROOT.parent / "shared" / "realworld"
    if not corpus.is_dir():
        pytest.skip("../shared/realworld is absent")
    module = _module()
    found = module.false_alarms(corpus / "bwubrian__snakeai")
    assert all(len(row) == 4 for row in found)
