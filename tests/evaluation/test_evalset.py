"""The committed evaluation set: size, split by seed, every kind in both splits."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tbplateau.errors import TbplateauError
from tbplateau.evaluation.evalset import EVALSET_ROOT, evaluation_cases, load_real_cases
from tbplateau.evaluation.families import split_of
from tbplateau.findings import FindingKind

pytestmark = pytest.mark.skipif(not EVALSET_ROOT.is_dir(), reason="evalset/real not generated")


@pytest.fixture(scope="module")
def docs() -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted(EVALSET_ROOT.glob("*/labels.json"))]


def test_split_follows_the_seed_and_seeds_do_not_cross(docs: list[dict[str, object]]) -> None:
    seeds: dict[str, dict[str, set[int]]] = {}
    for d in docs:
        seed = int(d["seed"])  # type: ignore[call-overload]
        assert d["split"] == split_of(seed)
        seeds.setdefault(str(d["scenario"]), {"dev": set(), "test": set()})[str(d["split"])].add(
            seed
        )
    for scenario, by in seeds.items():
        assert by["dev"], scenario
        assert by["test"], scenario
        assert not by["dev"] & by["test"], scenario


def test_at_least_400_labelled_series_half_of_them_real() -> None:
    cases = evaluation_cases("both", fixtures_root=None)
    labelled: Counter[str] = Counter()
    for c in cases:
        labelled[c.source] += len({(lb.run, lb.tags[0]) for lb in c.labels})
    assert labelled["real"] + labelled["synthetic"] >= 400
    assert labelled["real"] >= labelled["synthetic"]


@pytest.mark.parametrize("split", ["dev", "test"])
def test_every_kind_is_labelled_in_both_splits_and_in_real_runs(split: str) -> None:
    real = [c for c in load_real_cases() if c.split == split]
    everything = evaluation_cases(split, fixtures_root=None, synthetic_scale=0.25)
    assert {lb.kind for c in everything for lb in c.labels} == set(FindingKind)
    real_kinds = {lb.kind for c in real for lb in c.labels}
    assert real_kinds >= {FindingKind.PLATEAU, FindingKind.DIVERGENCE, FindingKind.OVERFITTING}


def test_every_writer_is_in_the_real_set(docs: list[dict[str, object]]) -> None:
    writers = {str(d["writer"]) for d in docs}
    for name in (
        "add_scalar",
        "add_scalars",
        "tensorboardX",
        "tf.summary",
        "keras",
        "lightning",
        "transformers",
        "flax",
    ):
        assert any(name in w for w in writers), name


def test_fully_labelled_entries_name_real_series() -> None:
    for case in load_real_cases():
        assert case.complete is not None
        for run, tag in case.complete:
            assert case.logdir[run][tag] is not None


def _copy_run(src: str, dst: Path, seed: int, split: str) -> None:
    shutil.copytree(EVALSET_ROOT / src, dst)
    doc = json.loads((dst / "labels.json").read_text())
    doc.update(seed=seed, split=split)
    (dst / "labels.json").write_text(json.dumps(doc))


@pytest.mark.skipif(not (EVALSET_ROOT / "lr_raise_s00").is_dir(), reason="no evalset/real")
def test_a_tuning_pool_run_is_neither_dev_nor_test(tmp_path: Path) -> None:
    _copy_run("lr_raise_s00", tmp_path / "pool" / "lr_raise_s600", 600, "pool")
    _copy_run("lr_raise_s01", tmp_path / "pool" / "lr_raise_s601", 601, "pool")
    cases = load_real_cases(tmp_path / "pool")
    assert [c.split for c in cases] == ["pool", "pool"]
    # a pool seed whose labels say otherwise is refused, as any split mismatch
    _copy_run("lr_raise_s00", tmp_path / "bad" / "lr_raise_s602", 602, "dev")
    with pytest.raises(TbplateauError, match="split"):
        load_real_cases(tmp_path / "bad")
