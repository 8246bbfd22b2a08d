"""The evaluation set's runs: every scenario x several seeds, datasets, optimisers and writers.

Seeds decide the split (:func:`split_of`): odd seeds are ``test``, even seeds ``dev``. Every
scenario has seeds of both parities, so both splits hold every scenario. Datasets, optimisers,
writers and intervention sizes rotate with the seed (``_pick``), so no scenario is tied to one of
them.

Two generations of seeds (:func:`_cond`). Seeds below :data:`TWINS_FROM` (the first set) choose
their conditions from the seed itself; with an even number of options that ties each option to one
parity, so one split never saw some conditions (``edge_of_stability``'s x30 and x60 raises were
test-only, ``lr_raise`` on digits, breast cancer and moons too). Seeds from :data:`TWINS_FROM` on
are twins: seeds ``2k`` and ``2k + 1`` share every condition (``seed // 2`` chooses) and differ
only in the random seed, so both splits see every condition. The first set is kept as it was.

A third group, the tuning **pool** (:func:`pool_specs`, seeds from :data:`POOL_FROM`), is neither
split and is not committed: generated on demand (``generate --pool``), it gives tuning more real
curves than ``dev`` alone (every scenario, torch writers), so a change that helps ``dev`` but not
the pool shows as tuning noise before ``test`` is ever scored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from train_reference.evalset.spec import Intervention as Iv
from train_reference.evalset.spec import RunSpec

__all__ = [
    "MORE_FROM",
    "MORE_TWINS",
    "POOL_FROM",
    "POOL_RUNS",
    "SCENARIOS",
    "TWINS_FROM",
    "all_specs",
    "pool_specs",
    "seeds_of",
    "split_of",
]

WRITERS = ("torch_scalar", "torch_scalars", "tensorboardx", "tf_summary")
NATIVE = ("keras", "lightning", "hf_trainer", "flax")
CLASSIFY = ("digits", "wine", "breast_cancer", "blobs", "moons", "iris")
OPTS = ("adam", "momentum", "rmsprop", "sgd", "adamw")


def split_of(seed: int) -> str:
    """``"test"`` for an odd seed, ``"dev"`` for an even one; ``"pool"`` from :data:`POOL_FROM`."""
    if seed >= POOL_FROM:
        return "pool"
    return "test" if seed % 2 else "dev"


def _pick(options: Sequence[str], seed: int, salt: int = 0) -> str:
    """``options[(seed * m + salt) % len]`` with ``m`` coprime to the length: every option in
    turn as the seed grows, each scenario (``salt``) starting elsewhere."""
    m = next(k for k in (5, 3, 7, 11) if math.gcd(k, len(options)) == 1)
    return options[(seed * m + salt) % len(options)]


TWINS_FROM = 100
"""The first twin seed (see the module's docstring)."""


def _cond(seed: int) -> int:
    """What a run's conditions are chosen by: the seed in the first set, ``seed // 2`` for twins."""
    return seed if seed < TWINS_FROM else seed // 2


def _base_lr(opt: str) -> float:
    return {"adam": 1e-3, "adamw": 1e-3, "rmsprop": 5e-4, "momentum": 0.01, "sgd": 0.05}[opt]


def _writer(seed: int, salt: int, natives: Sequence[str] = ()) -> str:
    return _pick((*WRITERS, *natives), seed, salt)


def lr_raise(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    factor = (3, 10, 30, 100, 1000)[c % 5]
    opt = _pick(OPTS, c, 1)
    epochs = (40 if quick else 80) + 4 * (c % 3)
    return RunSpec(
        f"lr_raise_s{seed:02d}",
        "lr_raise",
        seed,
        _pick(CLASSIFY, c, 1),
        _pick(("mlp", "mlp", "cnn"), c, 1) if _pick(CLASSIFY, c, 1) == "digits" else "mlp",
        opt,
        _base_lr(opt),
        epochs,
        64,
        _writer(c, 1, ("keras", "lightning", "hf_trainer")),
        interventions=(Iv(int(epochs * (0.4 + 0.03 * (c % 6))), "lr", factor),),
    )


def lr_spike(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    factor = (10, 30, 100, 300)[c % 4]
    length = 1 + c % 4
    opt = _pick(("adam", "momentum", "sgd", "rmsprop"), c, 2)
    epochs = (45 if quick else 90) + 3 * (c % 4)
    return RunSpec(
        f"lr_spike_s{seed:02d}",
        "lr_spike",
        seed,
        _pick(CLASSIFY, c, 2),
        "mlp",
        opt,
        _base_lr(opt),
        epochs,
        64,
        _writer(c, 2, ("keras", "hf_trainer")),
        interventions=(Iv(int(epochs * 0.45), "spike", factor, length),),
    )


def step_schedule(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(("momentum", "sgd", "adam"), c, 3)
    return RunSpec(
        f"step_schedule_s{seed:02d}",
        "step_schedule",
        seed,
        _pick(CLASSIFY, c, 3),
        "mlp",
        opt,
        _base_lr(opt) * (3 if opt != "adam" else 2),
        (60 if quick else 120) + 6 * (c % 3),
        64,
        _writer(c, 3, ("keras", "lightning", "flax")),
        schedule="step",
        phases=3 + c % 2,
    )


def cosine_schedule(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(("momentum", "adam", "sgd"), c, 4)
    return RunSpec(
        f"cosine_schedule_s{seed:02d}",
        "cosine_schedule",
        seed,
        _pick(CLASSIFY, c, 4),
        "mlp",
        opt,
        _base_lr(opt) * 3,
        (60 if quick else 120) + 4 * (c % 4),
        64,
        _writer(c, 4),
        schedule="cosine",
        phases=3 + c % 2,
    )


def lr_zero(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(OPTS, c, 5)
    epochs = (40 if quick else 80) + 2 * (c % 5)
    return RunSpec(
        f"lr_zero_s{seed:02d}",
        "lr_zero",
        seed,
        _pick(CLASSIFY, c, 5),
        "mlp",
        opt,
        _base_lr(opt),
        epochs,
        64,
        _writer(c, 5, ("keras", "lightning")),
        interventions=(Iv(int(epochs * (0.3 + 0.05 * (c % 5))), "lr", 0.0),),
    )


def poison(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(OPTS, c, 6)
    epochs = (40 if quick else 80) + 3 * (c % 4)
    ds = _pick(("digits", "wine", "blobs", "breast_cancer", "iris"), c, 6)
    return RunSpec(
        f"poison_s{seed:02d}",
        "poison",
        seed,
        ds,
        "cnn" if ds == "digits" and c % 3 == 0 else "mlp",
        opt,
        _base_lr(opt),
        epochs,
        64,
        _writer(c, 6, ("keras", "lightning")),
        interventions=(Iv(int(epochs * (0.35 + 0.05 * (c % 5))), "poison", -100.0),),
    )


def edge_of_stability(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    epochs = (160 if quick else 300) + 10 * (c % 3)
    return RunSpec(
        f"edge_of_stability_s{seed:02d}",
        "edge_of_stability",
        seed,
        _pick(("iris", "moons", "iris", "iris", "moons"), c, 7),
        "mlp_tanh",
        "sgd",
        0.05,
        epochs,
        None,
        _writer(c, 7, ("flax",)),
        interventions=(Iv(int(epochs * 0.4), "lr", (20, 30, 40, 60)[c % 4]),),
    )


def nan_blowup(seed: int, quick: bool) -> RunSpec:
    """Full-batch GD on a regression, the LR raised past the stability limit: geometric growth
    of the loss, then inf / NaN."""
    c = _cond(seed)
    epochs = (100 if quick else 200) + 5 * (c % 3)
    return RunSpec(
        f"nan_blowup_s{seed:02d}",
        "nan_blowup",
        seed,
        _pick(("diabetes", "regression"), c, 13),
        _pick(("linear", "linear", "mlp"), c, 13),
        "sgd",
        0.05,
        epochs,
        None,
        _writer(c, 13, ("keras", "flax")),
        interventions=(Iv(int(epochs * 0.4), "lr", (30, 40, 60, 80)[c % 4]),),
    )


GD_UNSTABLE = (
    ("wine", None, "lr", 60),
    ("breast_cancer", None, "spike", 60),
    ("blobs", None, "lr", 100),
    ("breast_cancer", None, "lr", 250),
    ("blobs", 256, "lr", 60),
    ("blobs", 256, "lr", 100),
    ("wine", None, "lr", 150),
    ("breast_cancer", None, "lr", 100),
)
"""``gd_unstable``'s conditions ``(dataset, batch, what, factor)``, one per twin pair in turn."""


def gd_unstable(seed: int, quick: bool) -> RunSpec:
    """Full-batch (or 256-sample batch) GD of a tanh MLP on wine, breast cancer or a 20-feature
    4-class problem, the LR raised x60-250 past the stability limit for good (``lr``) or for 25
    epochs then back (``spike``: swings that die out or stop, then a recovery): oscillation the
    way other data sets and batch sizes than ``edge_of_stability``'s produce it. Twins only."""
    c = _cond(seed)
    dataset, batch, what, factor = GD_UNSTABLE[c % len(GD_UNSTABLE)]
    epochs = (110 if quick else 220) + 5 * (c % 3)
    at = int(epochs * (0.35 + 0.05 * (c % 2)))
    return RunSpec(
        f"gd_unstable_s{seed:02d}",
        "gd_unstable",
        seed,
        dataset,
        "mlp_tanh",
        "sgd",
        0.05,
        epochs,
        batch,
        _writer(c, 14, ("flax",)),
        interventions=(Iv(at, what, factor, 25 if what == "spike" else 0),),
    )


def overfit(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(("adam", "adamw", "rmsprop"), c, 8)
    return RunSpec(
        f"overfit_s{seed:02d}",
        "overfit",
        seed,
        _pick(("digits", "blobs", "breast_cancer", "wine", "moons"), c, 8),
        "wide_mlp",
        opt,
        _base_lr(opt),
        (60 if quick else 120) + 5 * (c % 4),
        16,
        _writer(c, 8, ("keras", "lightning", "hf_trainer")),
        train_size=(60, 100, 150)[c % 3],
    )


def short(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(OPTS, c, 9)
    epochs = 25 + (c * 5) % 26
    what = ("lr", "poison", "none", "lr")[c % 4]
    ivs: tuple[Iv, ...] = ()
    if what == "lr":
        ivs = (Iv(int(epochs * 0.55), "lr", (100, 1000)[c % 2]),)
    elif what == "poison":
        ivs = (Iv(int(epochs * 0.55), "poison", -100.0),)
    return RunSpec(
        f"short_s{seed:02d}",
        "short",
        seed,
        _pick(CLASSIFY, c, 9),
        "mlp",
        opt,
        _base_lr(opt),
        epochs,
        64,
        _writer(c, 9, ("keras",)),
        interventions=ivs,
    )


def long_steps(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(("momentum", "sgd", "adam"), c, 10)
    return RunSpec(
        f"long_steps_s{seed:02d}",
        "long_steps",
        seed,
        _pick(("digits", "blobs", "moons"), c, 10),
        "mlp",
        opt,
        _base_lr(opt) * 2,
        (48 if quick else 100) + 4 * (c % 3),
        32,
        _writer(c, 10),
        per_step=True,
        schedule="step",
        phases=3 + c % 2,
    )


def resumed(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    epochs = (40 if quick else 80) + 2 * (c % 3)
    return RunSpec(
        f"resumed_s{seed:02d}",
        "resumed",
        seed,
        _pick(CLASSIFY, c, 11),
        "mlp",
        "momentum",
        0.01,
        epochs,
        64,
        _writer(c, 11),
        interventions=(Iv(int(epochs * 0.5), "crash", 1e4),),
    )


def healthy(seed: int, quick: bool) -> RunSpec:
    c = _cond(seed)
    opt = _pick(OPTS, c, 12)
    ds = _pick((*CLASSIFY, "diabetes", "regression"), c, 12)
    return RunSpec(
        f"healthy_s{seed:02d}",
        "healthy",
        seed,
        ds,
        _pick(("mlp", "mlp_tanh"), c, 12),
        opt,
        _base_lr(opt),
        (40 if quick else 80) + 5 * (c % 5),
        64,
        _writer(c, 12, ("keras", "lightning", "hf_trainer", "flax")),
    )


SCENARIOS = {
    "lr_raise": (lr_raise, 48, 24),
    "lr_spike": (lr_spike, 12, 8),
    "step_schedule": (step_schedule, 12, 8),
    "cosine_schedule": (cosine_schedule, 8, 8),
    "lr_zero": (lr_zero, 10, 8),
    "poison": (poison, 14, 8),
    "edge_of_stability": (edge_of_stability, 80, 40),
    "nan_blowup": (nan_blowup, 8, 4),
    "overfit": (overfit, 14, 8),
    "short": (short, 12, 8),
    "long_steps": (long_steps, 6, 4),
    "resumed": (resumed, 6, 4),
    "healthy": (healthy, 10, 8),
    "gd_unstable": (gd_unstable, 0, 40),
}
"""scenario -> (spec factory, first-set seeds, twin seeds): seeds ``0 .. first - 1`` and
``TWINS_FROM .. TWINS_FROM + twins - 1``."""

MORE_FROM = 500
"""The first seed of the third generation (:data:`MORE_TWINS`)."""

MORE_TWINS = {"edge_of_stability": 40, "gd_unstable": 20, "lr_raise": 20}
"""More twins (seeds ``MORE_FROM ..``) of the three scenarios whose runs oscillate: with 26
oscillation labels on real runs of the ``test`` split, one case moved that kind's score by
several points. Conditions rotate with ``seed // 2`` as for every twin."""


def seeds_of(scenario: str) -> list[int]:
    """Every seed of ``scenario``, first set then twins (both generations)."""
    _, first, twins = SCENARIOS[scenario]
    more = MORE_TWINS.get(scenario, 0)
    return [
        *range(first),
        *range(TWINS_FROM, TWINS_FROM + twins),
        *range(MORE_FROM, MORE_FROM + more),
    ]


CI_SUBSET = (
    "lr_raise_s00",  # torch add_scalars
    "lr_raise_s01",  # Hugging Face Trainer
    "lr_raise_s02",  # Keras callback
    "poison_s01",  # Lightning
    "step_schedule_s02",  # Flax
    "edge_of_stability_s02",  # tf.summary
    "overfit_s03",  # tensorboardX
    "nan_blowup_s01",  # torch add_scalar
    "resumed_s00",  # two writer sessions
    "long_steps_s00",  # 1,500+ points
)
"""Regenerated and checked by CI: every writer and a representative scenario of each kind."""


POOL_FROM = 600
"""The first seed of the tuning pool (:func:`pool_specs`): far above every seed of the set."""

POOL_RUNS = {"edge_of_stability": 160, "lr_raise": 80, "gd_unstable": 80}
"""Pool runs per scenario (seeds ``POOL_FROM ..``); every other scenario has :data:`POOL_OTHER`.
The three scenarios whose runs oscillate get more: that kind has the fewest labels."""

POOL_OTHER = 40


def pool_specs(quick: bool) -> list[RunSpec]:
    """The tuning pool's runs: seeds from :data:`POOL_FROM` of every scenario, conditions
    chosen as for twins, written by the two ``SummaryWriter`` writers in turn (no framework
    beyond torch is needed to make it)."""
    from dataclasses import replace

    out = []
    for scenario, (make, _, _) in SCENARIOS.items():
        count = POOL_RUNS.get(scenario, POOL_OTHER)
        for seed in range(POOL_FROM, POOL_FROM + count):
            spec = make(seed, quick)
            out.append(replace(spec, writer=("torch_scalar", "torch_scalars")[seed % 2]))
    return out


def all_specs(quick: bool, natives: bool = True) -> list[RunSpec]:
    """Every run; ``natives=False`` re-routes the native-framework writers to torch ones."""
    out = []
    for scenario, (make, _, _) in SCENARIOS.items():
        for seed in seeds_of(scenario):
            spec = make(seed, quick)
            if not natives and spec.writer in NATIVE:
                spec = _replace_writer(spec, WRITERS[seed % len(WRITERS)])
            out.append(spec)
    return out


def _replace_writer(spec: RunSpec, writer: str) -> RunSpec:
    from dataclasses import replace

    return replace(spec, writer=writer)
