"""The evaluation set's scenarios: seeds choose the split, twins share their conditions."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

from train_reference.evalset.scenarios import (
    MORE_FROM,
    MORE_TWINS,
    POOL_FROM,
    POOL_OTHER,
    POOL_RUNS,
    SCENARIOS,
    TWINS_FROM,
    all_specs,
    pool_specs,
    seeds_of,
    split_of,
)

from tbplateau.evaluation import evalset


def test_twin_seeds_share_every_condition_and_differ_only_in_seed() -> None:
    twins = [s for s in all_specs(quick=True) if s.seed >= TWINS_FROM]
    assert twins
    by_pair = defaultdict(list)
    for s in twins:
        by_pair[(s.scenario, s.seed // 2)].append(s)
    for pair in by_pair.values():
        dev, test = sorted(pair, key=lambda s: s.seed)
        assert (split_of(dev.seed), split_of(test.seed)) == ("dev", "test")
        assert replace(test, name=dev.name, seed=dev.seed) == dev


def test_the_twins_give_both_splits_every_condition_the_first_set_gave_only_one() -> None:
    for scenario in ("edge_of_stability", "lr_raise", "gd_unstable"):
        seen: dict[str, set[tuple[str, float]]] = {"dev": set(), "test": set()}
        for s in all_specs(quick=True):
            if s.scenario == scenario and s.seed >= TWINS_FROM:
                seen[split_of(s.seed)].add((s.dataset, s.interventions[0].factor))
        assert seen["dev"] == seen["test"], scenario


def test_every_scenario_has_twin_seeds_of_both_parities_and_first_set_ones_if_any() -> None:
    for scenario in SCENARIOS:
        seeds = seeds_of(scenario)
        first = [s for s in seeds if s < TWINS_FROM]
        twins = [s for s in seeds if s >= TWINS_FROM]
        assert {s % 2 for s in twins} == {0, 1}, scenario
        assert not first or {s % 2 for s in first} == {0, 1}, scenario
        assert len(twins) % 2 == 0, scenario


def test_twins_only_scenarios_add_no_first_set_run() -> None:
    """A scenario added after the first set (``gd_unstable``) has twin seeds only: the first
    set stays as it was."""
    first = [s for s in all_specs(quick=True) if s.seed < TWINS_FROM]
    assert len(first) == 240
    assert not [s for s in first if s.scenario == "gd_unstable"]
    assert len([s for s in all_specs(quick=True) if s.scenario == "gd_unstable"]) == 60


def test_the_third_generation_adds_twins_of_the_oscillating_scenarios_to_both_splits() -> None:
    more = [s for s in all_specs(quick=True) if s.seed >= MORE_FROM]
    assert len(more) == sum(MORE_TWINS.values()) == 80
    assert {s.scenario for s in more} == set(MORE_TWINS)
    splits = [split_of(s.seed) for s in more]
    assert splits.count("dev") == splits.count("test") == 40
    # the first two generations are untouched
    assert len(all_specs(quick=True)) == 420 + 80


def test_gd_unstable_varies_data_batch_and_raise_beyond_edge_of_stability() -> None:
    specs = [s for s in all_specs(quick=True) if s.scenario == "gd_unstable"]
    assert {s.dataset for s in specs} == {"wine", "breast_cancer", "blobs"}
    assert {s.batch for s in specs} == {None, 256}
    assert {s.interventions[0].what for s in specs} == {"lr", "spike"}
    assert len({s.interventions[0].factor for s in specs}) >= 4
    assert all(s.optimizer == "sgd" and s.model == "mlp_tanh" for s in specs)


def test_the_scorer_knows_where_the_twins_start() -> None:
    assert evalset.TWINS_FROM == TWINS_FROM


def test_the_tuning_pool_is_neither_split_and_shares_no_seed_with_the_set() -> None:
    pool = pool_specs(quick=True)
    counts = Counter(s.scenario for s in pool)
    assert counts == {k: POOL_RUNS.get(k, POOL_OTHER) for k in SCENARIOS}
    assert {split_of(s.seed) for s in pool} == {"pool"}
    assert {s.writer for s in pool} == {"torch_scalar", "torch_scalars"}
    assert len({s.name for s in pool}) == len(pool)
    in_set = {(s.scenario, s.seed) for s in all_specs(quick=True)}
    assert max(s.seed for s in all_specs(quick=True)) < POOL_FROM
    assert not in_set & {(s.scenario, s.seed) for s in pool}
    assert {split_of(s.seed) for s in all_specs(quick=True)} == {"dev", "test"}


def test_the_scorer_knows_where_the_pool_starts() -> None:
    assert evalset.POOL_FROM == POOL_FROM
