"""TensorFlow / Keras reference runs: scenarios 1-8, a custom ``tf.summary`` loop, a resumed run
and a killed one.

Step convention of every run written by Keras' ``TensorBoard`` callback here:
``update_freq="epoch"``, so each ``epoch_*`` tag is logged once per epoch at ``step = epoch index``
(0-based) in the ``train`` and ``validation`` runs; the callback also writes
``evaluation_*_vs_iterations`` in ``validation`` at ``step = optimizer iterations``. Labels below
use the epoch index.

Each scenario function trains a real model, writes its logdir, reads the event files back with
TensorBoard's own reader and derives the labels from what it did and what was logged.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from train_reference.common import (
    Label,
    Logdir,
    Negative,
    first_nonfinite,
    flat_onset,
    frozen_from,
    loss_story,
    read_run,
    reset_dir,
    settled_from,
)
from train_reference.data import binary_images, binary_tabular, regression

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # type: ignore[import-untyped]
import tensorflow as tf  # type: ignore[import-untyped]

L = keras.layers
OTHER_KINDS = ["divergence", "nonfinite", "oscillation"]
EPOCH = "step = epoch index (0-based), Keras TensorBoard callback with update_freq='epoch'"


def _seed(seed: int) -> None:
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _tensorboard(log_dir: Path, **kwargs: Any) -> Any:
    opts: dict[str, Any] = {"histogram_freq": 0, "write_graph": False, "update_freq": "epoch"}
    opts.update(kwargs)
    return keras.callbacks.TensorBoard(log_dir=str(log_dir), **opts)


class _LrAt(keras.callbacks.Callback):  # type: ignore[misc]
    """Set the learning rate at the start of chosen epochs and record the rate each epoch ran at."""

    def __init__(self, schedule: Callable[[int, float], float] | None = None) -> None:
        super().__init__()
        self.schedule = schedule
        self.used: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.schedule is not None:
            current = float(self.model.optimizer.learning_rate.numpy())
            self.model.optimizer.learning_rate = self.schedule(epoch, current)
        self.used.append(float(self.model.optimizer.learning_rate.numpy()))


def _split(x: np.ndarray, y: np.ndarray, n_val: int) -> tuple[np.ndarray, ...]:
    return x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]


def _mlp(width: int, depth: int = 2, d: int = 64) -> Any:
    layers: list[Any] = [keras.Input((d,))]
    layers += [L.Dense(width, activation="relu") for _ in range(depth)]
    layers.append(L.Dense(1, activation="sigmoid"))
    return keras.Sequential(layers)


def _negatives(runs: list[str], tags: list[str], kinds: list[str], why: str) -> list[Negative]:
    return [Negative(run, tags, kinds, why) for run in runs]


# --------------------------------------------------------------------------------------------
# Scenario 1: diminishing returns, then a stall


def dense_diminishing(out: Path, quick: bool) -> Logdir:
    """Dense 16-16-1 on 50,000 x 64 samples, Adam lr 0.01, batch 200, trained long."""
    root = reset_dir(out / "keras_dense_diminishing")
    epochs = 60 if quick else 200
    _seed(1)
    x, y, xv, yv = _split(*binary_tabular(50_000, seed=1, label_noise=0.1), n_val=10_000)
    model = _mlp(16)
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        y,
        batch_size=200,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[_tensorboard(root)],
    )
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "1 diminishing returns")
    loss_story(
        log,
        "train",
        "validation",
        "Adam lr 0.01 on a problem with 10% flipped labels (a loss floor no model can beat)",
    )
    log.negatives.append(
        Negative("train", ["epoch_loss"], OTHER_KINDS, "healthy optimisation of the training loss")
    )
    return log


# --------------------------------------------------------------------------------------------
# Scenario 2: small CNN with augmentation, trained far past its best epoch


def cnn_overfit(out: Path, quick: bool) -> Logdir:
    """CNN on 200 noisy-label images with flip augmentation and cosine decay: dip, rise, flat."""
    root = reset_dir(out / "keras_cnn_overfit")
    epochs = 100 if quick else 250
    _seed(2)
    x, y = binary_images(1200, seed=5, amp=2.0)
    xv, yv, x, y = x[200:], y[200:], x[:200], y[:200].copy()
    flip = np.random.default_rng(9).random(200) < 0.25
    y[flip] = 1.0 - y[flip]
    model = keras.Sequential(
        [
            keras.Input((16, 16, 1)),
            L.RandomFlip("horizontal"),
            L.Conv2D(16, 3, activation="relu", padding="same"),
            L.MaxPooling2D(),
            L.Conv2D(32, 3, activation="relu", padding="same"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(128, activation="relu"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    steps_per_epoch = int(np.ceil(len(x) / 32))
    lr = keras.optimizers.schedules.CosineDecay(
        3e-3, decay_steps=epochs * steps_per_epoch, alpha=0.0
    )
    model.compile(keras.optimizers.Adam(lr), "binary_crossentropy", metrics=["accuracy"])
    # the one run with histograms and weight images, for reader coverage (kept small)
    tb = _tensorboard(root, histogram_freq=max(1, epochs // 5), write_images=True)
    model.fit(
        x, y, batch_size=32, epochs=epochs, validation_data=(xv, yv), verbose=0, callbacks=[tb]
    )
    train, val = read_run(root / "train"), read_run(root / "validation")
    vs, vl = val["epoch_loss"]
    best = int(np.argmin(vl))
    near = vs[vl <= vl[best] + 0.02 * (vl.max() - vl[best])]
    log = Logdir(
        root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "2 overfitting then flat"
    )
    log.labels.append(
        Label(
            "validation",
            "overfitting",
            ["epoch_loss", "epoch_loss"],
            int(vs[best]),
            None,
            "25% of the 200 training labels flipped; validation loss minimum (computed from the "
            "logged "
            "curve) at this epoch, training loss keeps falling; onset range = epochs within 2% of "
            "the "
            "rise of the minimum",
            onset_range=[int(near.min()), int(near.max())],
            other_run="train",
        )
    )
    # the flat tail: cosine decay brings the LR to 0 at the last epoch
    flat = flat_onset(vs[best:], vl[best:])
    if flat is not None:
        lo, mid, hi = flat
        log.labels.append(
            Label(
                "validation",
                "plateau",
                ["epoch_loss"],
                mid,
                int(vs[-1]),
                "cosine LR decay to 0 at the last epoch flattens the rising validation loss; "
                "onset = first epoch from which the centred 5-epoch mean stays within 5% of the "
                "rise of its final level (range 10% .. 2%; common.flat_onset on the curve after "
                "the minimum)",
                onset_range=[lo, hi],
            )
        )
    frozen = frozen_from(*train["epoch_accuracy"])
    if frozen is not None and frozen <= epochs - 5:
        log.labels.append(
            Label(
                "train",
                "plateau",
                ["epoch_accuracy"],
                frozen,
                int(train["epoch_accuracy"][0][-1]),
                "training set memorised: training accuracy is bit-for-bit constant from this epoch "
                "(computed from the logged curve)",
                exact=True,
            )
        )
    log.notes.append(
        "train/ also holds histograms and weight images (histogram_freq, write_images)"
    )
    return log


# --------------------------------------------------------------------------------------------
# Scenario 3: transfer learning with a frozen base


def transfer_frozen(out: Path, quick: bool) -> Logdir:
    """A frozen, randomly initialised conv base + a trainable head on imbalanced images."""
    root = reset_dir(out / "keras_transfer_frozen")
    epochs = 40 if quick else 100
    _seed(3)
    x, y = binary_images(1300, seed=6, amp=0.7, positive_rate=0.2)
    x, y, xv, yv = _split(x, y, n_val=300)
    base = keras.Sequential(
        [keras.Input((16, 16, 1)), L.Conv2D(8, 3, activation="relu"), L.GlobalAveragePooling2D()],
        name="pretrained_base_stand_in",
    )
    base.trainable = False
    model = keras.Sequential([keras.Input((16, 16, 1)), base, L.Dense(1, activation="sigmoid")])
    metrics = [
        "accuracy",
        keras.metrics.Precision(name="precision"),
        keras.metrics.Recall(name="recall"),
    ]
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=metrics)
    model.fit(
        x,
        y,
        batch_size=50,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[_tensorboard(root)],
    )
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "3 frozen base")
    prior = float(1.0 - yv.mean())
    for run in ("train", "validation"):
        series = read_run(root / run)
        for tag in ("epoch_accuracy", "epoch_precision", "epoch_recall"):
            start = frozen_from(*series[tag])
            if start is None or start > epochs // 2:
                continue
            log.labels.append(
                Label(
                    run,
                    "plateau",
                    [tag],
                    start,
                    int(series[tag][0][-1]),
                    "base frozen (trainable=False, random weights standing in for ImageNet): its "
                    "features are too weak for the 20%-positive head to ever predict a positive, "
                    "so the "
                    "metric is bit-for-bit constant from this step (validation accuracy = "
                    f"{prior:.4f}, "
                    "the negative-class prior; precision and recall 0)",
                    exact=True,
                )
            )
    val = read_run(root / "validation")
    log.negatives += _negatives(
        ["train", "validation"],
        ["epoch_loss"],
        [*OTHER_KINDS, "overfitting"],
        "the head's loss still creeps down smoothly; nothing else happens",
    )
    log.notes.append(
        f"validation negative-class prior = {prior:.6f}; last logged validation "
        f"accuracy = {val['epoch_accuracy'][1][-1]:.6f}"
    )
    return log


# --------------------------------------------------------------------------------------------
# Scenario 4: learning rate far too high


def lr_too_high(out: Path, quick: bool) -> Logdir:
    """Linear regression, SGD lr 0.05 for 8 epochs, then 1.2 (24x, past the stability limit)."""
    root = reset_dir(out / "keras_lr_too_high")
    epochs = 40 if quick else 60
    raise_at, lr_ok, lr_bad = 8, 0.05, 1.2
    x, y, xv, yv = _split(*regression(5000, seed=1), n_val=1000)
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "4 divergence then NaN")
    for name, extra in (("diverge", []), ("terminate_on_nan", [keras.callbacks.TerminateOnNaN()])):
        _seed(4)
        model = keras.Sequential([keras.Input((16,)), L.Dense(1)])
        model.compile(keras.optimizers.SGD(lr_ok), "mse")
        lr = _LrAt(lambda e, cur: lr_bad if e >= raise_at else lr_ok)
        model.fit(
            x,
            y,
            batch_size=500,
            epochs=epochs,
            validation_data=(xv, yv),
            verbose=0,
            callbacks=[lr, *extra, _tensorboard(root / name)],
        )
        for sub in ("train", "validation"):
            run = f"{name}/{sub}"
            steps, values = read_run(root / run)["epoch_loss"]
            bad = first_nonfinite(steps, values)
            last = int(steps[-1])
            finite_end = (bad - 1) if bad is not None else last
            log.labels.append(
                Label(
                    run,
                    "divergence",
                    ["epoch_loss"],
                    raise_at,
                    finite_end,
                    f"learning rate raised from {lr_ok} to {lr_bad} at the start of epoch "
                    f"{raise_at} "
                    "(past the SGD stability limit of this problem); the loss grows geometrically "
                    "until "
                    "it overflows",
                    onset_range=[raise_at, raise_at + 1],
                )
            )
            if bad is not None:
                first_nan = first_nonfinite(steps, [v if not np.isinf(v) else 0.0 for v in values])
                log.labels.append(
                    Label(
                        run,
                        "nonfinite",
                        ["epoch_loss"],
                        bad,
                        last,
                        "first non-finite logged value (read back from the event file)"
                        + (
                            f"; inf first, NaN from step {first_nan}"
                            if first_nan not in (None, bad)
                            else ""
                        ),
                    )
                )
    log.notes.append(
        "terminate_on_nan: keras.callbacks.TerminateOnNaN stops training inside the "
        "epoch whose batch loss is first non-finite; that epoch's partial mean is still "
        "logged"
    )
    return log


# --------------------------------------------------------------------------------------------
# Scenario 5: learning rate too low


def lr_too_low(out: Path, quick: bool) -> Logdir:
    """The scenario-1 network with Adam lr 1e-5: a long slow creep that looks like a plateau."""
    root = reset_dir(out / "keras_lr_too_low")
    epochs = 30 if quick else 150
    _seed(5)
    x, y, xv, yv = _split(*binary_tabular(50_000, seed=1, label_noise=0.1), n_val=10_000)
    model = _mlp(16)
    model.compile(keras.optimizers.Adam(1e-5), "binary_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        y,
        batch_size=200,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[_tensorboard(root)],
    )
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "5 slow creep")
    for run in ("train", "validation"):
        _, values = read_run(root / run)["epoch_loss"]
        share = float(np.mean(np.diff(values) < 0))
        log.negatives.append(
            Negative(
                run,
                ["epoch_loss"],
                ["plateau", *OTHER_KINDS, "overfitting"],
                f"Adam lr 1e-5 (1000x too low): the loss falls on {share:.0%} of epochs, from "
                f"{values[0]:.4f} to {values[-1]:.4f}, far from the 10%-label-noise floor that "
                "scenario 1 reaches; slow but real progress, not a plateau",
            )
        )
    return log


# --------------------------------------------------------------------------------------------
# Scenario 6: step schedule and ReduceLROnPlateau


def lr_schedules(out: Path, quick: bool) -> Logdir:
    """SGD momentum 0.9, Dense 16-16-1: a staircase (lr 0.5) and ReduceLROnPlateau (lr 0.2)."""
    root = reset_dir(out / "keras_lr_schedules")
    epochs = 45 if quick else 90
    x, y, xv, yv = _split(*binary_tabular(50_000, seed=7, label_noise=0.05), n_val=10_000)
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "6 LR schedules")

    _seed(6)
    model = _mlp(16)
    model.compile(
        keras.optimizers.SGD(0.5, momentum=0.9), "binary_crossentropy", metrics=["accuracy"]
    )
    third = epochs // 3
    lr = _LrAt(lambda e, cur: 0.5 * 0.1 ** (e // third))
    model.fit(
        x,
        y,
        batch_size=200,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[lr, _tensorboard(root / "step_schedule")],
    )
    cuts = [third, 2 * third]
    for sub in ("train", "validation"):
        run = f"step_schedule/{sub}"
        steps, values = read_run(root / run)["epoch_loss"]
        bounds = [0, *cuts, epochs]
        for a, b in itertools.pairwise(bounds):
            seg = slice(max(a - 1, 0), b)  # from the last epoch before the cut
            onset = flat_onset(steps[seg], values[seg], min_points=3)
            if onset is None:
                continue
            lo, mid, hi = onset
            log.labels.append(
                Label(
                    run,
                    "plateau",
                    ["epoch_loss"],
                    mid,
                    b - 1,
                    f"staircase: lr 0.5 x 0.1^(epoch // {third}); the loss settles at the noise "
                    f"floor of the current LR"
                    + (f" and the next cut (epoch {b}) breaks it" if b < epochs else "")
                    + "; onset by common.flat_onset on the segment from the epoch before its "
                    "cut (5% of the segment's change; range 10% .. 2%)",
                    onset_range=[lo, hi],
                )
            )
    log.notes.append(
        f"step_schedule: LR cut x0.1 at the start of epochs {cuts} (train/epoch_learning_rate)"
    )

    _seed(6)
    model = _mlp(16)
    model.compile(
        keras.optimizers.SGD(0.2, momentum=0.9), "binary_crossentropy", metrics=["accuracy"]
    )
    rec = _LrAt()
    rlrop = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.1, patience=5, min_delta=1e-3
    )
    model.fit(
        x,
        y,
        batch_size=200,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[rec, rlrop, _tensorboard(root / "reduce_lr_on_plateau")],
    )
    used = np.array(rec.used)
    cut = int(np.nonzero(used < used[0])[0][0]) if np.any(used < used[0]) else None
    if cut is not None:
        vsteps, vloss = read_run(root / "reduce_lr_on_plateau/validation")["epoch_loss"]
        best, last_improved = np.inf, 0
        for e in range(cut):  # ReduceLROnPlateau's own rule: improvement by more than min_delta
            if vloss[e] < best - 1e-3:
                best, last_improved = vloss[e], e
        lo, _, hi = flat_onset(vsteps[:cut], vloss[:cut], min_points=3) or [last_improved] * 3
        log.labels.append(
            Label(
                "reduce_lr_on_plateau/validation",
                "plateau",
                ["epoch_loss"],
                last_improved,
                cut - 1,
                "SGD lr 0.2; ReduceLROnPlateau(monitor=val_loss, patience=5, min_delta=1e-3): "
                "last improvement "
                f"at this epoch, LR cut x0.1 from epoch {cut} (recorded by the script) breaks the "
                "plateau",
                onset_range=[min(lo, last_improved), max(hi, last_improved)],
            )
        )
        log.notes.append(f"reduce_lr_on_plateau: learning rates used per epoch: {used.tolist()}")
    return log


# --------------------------------------------------------------------------------------------
# Scenario 7: the network dies


def dead_relu(out: Path, quick: bool) -> Logdir:
    """Dense 32-32-1 ReLU, SGD momentum; one epoch at lr 5.0 kills every hidden unit."""
    root = reset_dir(out / "keras_dead_relu")
    epochs = 40 if quick else 80
    spike_at = 10
    _seed(7)
    x, y, xv, yv = _split(
        *binary_tabular(13_000, seed=3, positive_rate=0.3, label_noise=0.05), n_val=3000
    )
    model = _mlp(32)
    model.compile(
        keras.optimizers.SGD(0.05, momentum=0.9), "binary_crossentropy", metrics=["accuracy"]
    )
    lr = _LrAt(lambda e, cur: 5.0 if e == spike_at else 0.05)
    model.fit(
        x,
        y,
        batch_size=100,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[lr, _tensorboard(root)],
    )
    hidden = keras.Model(model.inputs, model.layers[1].output)
    alive = int((hidden.predict(xv, verbose=0) > 0).any(axis=0).sum())
    prior = float(1.0 - yv.mean())
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "7 dead ReLUs")
    for run in ("train", "validation"):
        series = read_run(root / run)
        start = frozen_from(*series["epoch_accuracy"])
        if start is not None:
            log.labels.append(
                Label(
                    run,
                    "plateau",
                    ["epoch_accuracy"],
                    start,
                    int(series["epoch_accuracy"][0][-1]),
                    f"lr spiked to 5.0 for epoch {spike_at}: {32 - alive} of 32 first-layer ReLUs "
                    "dead "
                    "on every validation input; the output is a constant, so accuracy is frozen "
                    "at the "
                    f"majority-class share ({prior:.4f} on validation) from this step",
                    exact=True,
                    onset_range=[spike_at, max(start, spike_at)] if start >= spike_at else None,
                )
            )
        log.labels += _collapse_labels(run, series, spike_at, prior)
        steps, values = series["epoch_loss"]
        lo, mid, hi = (settled_from(steps, values, rel_tol=t) for t in (1e-2, 1e-3, 1e-4))
        log.labels.append(
            Label(
                run,
                "plateau",
                ["epoch_loss"],
                mid,
                int(steps[-1]),
                "dead network: only the output bias still learns, the loss settles at the entropy "
                "of "
                "the class prior; onset = first step from which every value is within 0.1% of the "
                "last "
                "(range: 1% .. 0.01%)",
                onset_range=[lo, hi],
            )
        )
    log.notes.append(f"alive first-layer units after training: {alive} of 32")
    return log


def _collapse_labels(run: str, series: dict[str, Any], at: int, prior: float) -> list[Label]:
    """The LR spike's one-step collapse as a divergence (issue 8, class 1): from epoch ``at``
    accuracy sits at the majority-class share and the loss above its level before, and neither
    comes back. Labelled only when the script's spike did that (every unit dead)"""
    out = []
    for tag in ("epoch_accuracy", "epoch_loss"):
        steps, values = series[tag]
        before, after = values[steps < at][-3:], values[steps >= at]
        if len(before) == 0 or len(after) == 0:
            continue
        if tag == "epoch_accuracy":
            worse = float(np.median(after)) <= min(float(np.median(before)) - 0.05, prior + 0.02)
            how = f"accuracy falls to the majority-class share ({prior:.4f} on validation)"
        else:
            worse = float(np.median(after)) >= 1.22 * float(np.median(before))
            how = (
                f"the loss jumps from {float(before[-1]):.3g} to {float(after[0]):.3g} and stays up"
            )
        if worse:
            out.append(
                Label(
                    run,
                    "divergence",
                    [tag],
                    at,
                    int(steps[-1]),
                    f"lr spiked to 5.0 for epoch {at} (recorded by the script): in one epoch "
                    f"{how}; the network is dead and never recovers",
                    onset_range=[at, at],
                    rule="collapse",
                )
            )
    return out


# --------------------------------------------------------------------------------------------
# Scenario 8: LR set to zero, and a healthy run


def lr_zero_and_healthy(out: Path, quick: bool) -> Logdir:
    """Dense 16-16-1, Adam 1e-3: one run gets lr = 0 from a known epoch, the other converges."""
    root = reset_dir(out / "keras_lr_zero_and_healthy")
    epochs = 30 if quick else 100
    zero_at = epochs // 2
    x, y, xv, yv = _split(*binary_tabular(24_000, d=16, seed=8, label_noise=0.05), n_val=4000)
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "8 LR zero / healthy")
    for name, schedule in (
        ("lr_zero", lambda e, cur: 0.0 if e >= zero_at else 1e-3),
        ("healthy", None),
    ):
        _seed(8)
        model = _mlp(16, d=16)
        model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy", metrics=["accuracy"])
        model.fit(
            x,
            y,
            batch_size=200,
            epochs=epochs,
            validation_data=(xv, yv),
            verbose=0,
            callbacks=[_LrAt(schedule), _tensorboard(root / name)],
        )
        for sub in ("train", "validation"):
            run = f"{name}/{sub}"
            series = read_run(root / run)
            if name == "lr_zero":
                # weights stop changing after epoch zero_at - 1; validation is evaluated on them at
                # the end of that epoch already, training metrics from epoch zero_at on
                start = zero_at - 1 if sub == "validation" else zero_at
                for tag in ("epoch_loss", "epoch_accuracy"):
                    steps, values = series[tag]
                    tail = values[steps >= start]
                    exact = bool(np.all(tail == tail[0]))
                    log.labels.append(
                        Label(
                            run,
                            "plateau",
                            [tag],
                            start,
                            int(steps[-1]),
                            f"learning rate set to 0 at the start of epoch {zero_at}: weights "
                            "frozen; "
                            + (
                                "bit-for-bit constant"
                                if exact
                                else "constant up to float32 summation order "
                                f"(spread {np.ptp(tail):.2e})"
                            ),
                            exact=exact,
                        )
                    )
            else:
                log.negatives.append(Negative(run, ["epoch_loss"], OTHER_KINDS, "healthy run"))
        if name == "healthy":
            loss_story(log, "healthy/train", "healthy/validation", "healthy run, Adam 1e-3")
    return log


# --------------------------------------------------------------------------------------------
# A custom tf.summary loop with per-step logging (cyclic LR: oscillation)


def custom_loop_cyclic(out: Path, quick: bool) -> Logdir:
    """GradientTape loop, per-step ``tf.summary.scalar``; a triangular cyclic LR swings the loss."""
    root = reset_dir(out / "tf_summary_custom_loop")
    steps = 1200 if quick else 4000
    period, warm, lr_lo, lr_hi = 200, 200, 0.05, 15.0
    _seed(9)
    x, y, xv, yv = _split(*binary_tabular(12_000, d=16, seed=9, label_noise=0.0), n_val=2000)
    model = keras.Sequential(
        [
            keras.Input((16,)),
            L.Dense(32, activation="tanh"),
            L.Dense(32, activation="tanh"),
            L.Dense(1, activation="sigmoid"),
        ]
    )
    opt = keras.optimizers.SGD(lr_lo)
    loss_fn = keras.losses.BinaryCrossentropy()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(10_000, seed=9).repeat().batch(500)
    writer = tf.summary.create_file_writer(str(root / "train"))
    val_writer = tf.summary.create_file_writer(str(root / "eval"))

    @tf.function  # type: ignore[misc]
    def train_step(xb: Any, yb: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(yb[:, None], model(xb, training=True))
        opt.apply_gradients(
            zip(
                tape.gradient(loss, model.trainable_variables),
                model.trainable_variables,
                strict=True,
            )
        )
        return loss

    def lr_at(step: int) -> float:
        if step < warm:
            return lr_lo
        phase = ((step - warm) % period) / period  # triangular: lr_lo -> lr_hi -> lr_lo
        return lr_lo + (lr_hi - lr_lo) * (1.0 - abs(2.0 * phase - 1.0))

    for step, (xb, yb) in enumerate(ds.take(steps)):
        opt.learning_rate = lr_at(step)
        loss = train_step(xb, yb)
        with writer.as_default(step=step):
            tf.summary.scalar("loss", loss)
            tf.summary.scalar("learning_rate", lr_at(step))
        if step % 20 == 0:
            with val_writer.as_default(step=step):
                tf.summary.scalar("loss", loss_fn(yv[:, None], model(xv, training=False)))
    writer.close()
    val_writer.close()
    log = Logdir(
        root,
        "tensorflow",
        "tf.summary (custom GradientTape loop)",
        "step = optimizer step (0-based), train/loss every step, eval/loss every 20 steps",
        "oscillation (cyclic LR)",
    )
    why = (
        f"plain SGD, tanh MLP, triangular cyclic LR {lr_lo} -> {lr_hi} -> {lr_lo} with period "
        f"{period} steps from step {warm}; the loss jumps as the LR peaks and recovers as it falls"
    )
    for run in ("train", "eval"):
        s = read_run(root / run)["loss"][0]
        log.labels.append(
            Label(
                run,
                "oscillation",
                ["loss"],
                warm,
                int(s[-1]),
                why,
                onset_range=[warm, warm + period // 2],
                period=period,
            )
        )
    return log


# --------------------------------------------------------------------------------------------
# A run resumed from a checkpoint, and a run killed mid-write


def resumed(out: Path, quick: bool) -> Logdir:
    """A run that blows up to NaN, resumed from the checkpoint of an earlier epoch with a sane LR.

    The resumed session writes a second event file into the same ``train``/``validation``
    directories and repeats the steps after the checkpoint. TensorBoard's rule (the newest write of
    a step wins) leaves a healthy curve; a reader that keeps the old points sees NaN.
    """
    root = reset_dir(out / "keras_resumed")
    epochs, ckpt_epoch, raise_at, crash_epoch = (30, 9, 12, 20) if quick else (60, 19, 22, 35)
    x, y, xv, yv = _split(*regression(5000, seed=11), n_val=1000)
    _seed(11)
    model = keras.Sequential([keras.Input((16,)), L.Dense(1)])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    ckpt = root.parent / f".{root.name}.weights.h5"

    class _Checkpoint(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            if epoch == ckpt_epoch:
                self.model.save_weights(str(ckpt))

    lr = _LrAt(lambda e, cur: 1.3 if e >= raise_at else 0.05)
    model.fit(
        x,
        y,
        batch_size=500,
        epochs=crash_epoch + 1,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[lr, _Checkpoint(), _tensorboard(root)],
    )
    first = {run: read_run(root / run)["epoch_loss"] for run in ("train", "validation")}
    time.sleep(1.1)  # the second session's files must sort after the first's (names hold seconds)
    _seed(12)
    model2 = keras.Sequential([keras.Input((16,)), L.Dense(1)])
    model2.compile(keras.optimizers.SGD(0.05), "mse")
    model2.load_weights(str(ckpt))
    ckpt.unlink()
    model2.fit(
        x,
        y,
        batch_size=500,
        epochs=epochs,
        initial_epoch=ckpt_epoch + 1,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[_tensorboard(root)],
    )
    log = Logdir(
        root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "resumed from checkpoint"
    )
    replaced = crash_epoch - ckpt_epoch
    log.reader = {
        "resumed_runs": ["train", "validation"],
        "event_files_per_run": 2,
        "repeated_steps": [ckpt_epoch + 1, crash_epoch],
        "replaced_points_per_tag": replaced,
        "rule": "the newest write of a step wins (TensorBoard's purge of orphaned steps)",
    }
    for run in ("train", "validation"):
        steps, values = first[run]
        bad = first_nonfinite(steps, values)
        log.negatives.append(
            Negative(
                run,
                ["epoch_loss"],
                ["nonfinite", "divergence"],
                f"the first session raised lr to 1.3 at epoch {raise_at} and its loss diverged"
                + (f" (non-finite from epoch {bad})" if bad is not None else "")
                + f" until it was stopped after epoch {crash_epoch}; the run was resumed from the "
                f"epoch-{ckpt_epoch} checkpoint with lr 0.05, so steps "
                f"{ckpt_epoch + 1}..{crash_epoch} were rewritten and the merged series is healthy",
            )
        )
    loss_story(log, "train", "validation", "merged (newest-wins) curves of the resumed run")
    return log


def killed(out: Path, quick: bool) -> Logdir:
    """A run whose training event file is cut mid-record, as when the job is killed."""
    root = reset_dir(out / "keras_killed")
    epochs = 30 if quick else 60
    _seed(13)
    x, y, xv, yv = _split(*binary_tabular(12_000, seed=13, label_noise=0.05), n_val=2000)
    model = _mlp(16)
    model.compile(keras.optimizers.Adam(3e-3), "binary_crossentropy", metrics=["accuracy"])
    model.fit(
        x,
        y,
        batch_size=100,
        epochs=epochs,
        validation_data=(xv, yv),
        verbose=0,
        callbacks=[_tensorboard(root)],
    )
    (path,) = (root / "train").glob("*tfevents*")
    cut = truncate_mid_record(path, keep_fraction=0.7)
    steps, _ = read_run(root / "train")["epoch_loss"]
    log = Logdir(root, "tensorflow", "keras.callbacks.TensorBoard", EPOCH, "killed mid-write")
    log.reader = {
        "truncated_file": f"train/{path.name}",
        "complete_records": cut["complete_records"],
        "truncated_record_bytes_kept": cut["partial_bytes"],
        "last_complete_epoch_loss_step": int(steps[-1]),
        "expect": "a truncated tail (still being written / killed): every complete record is "
        "read, the partial one is reported, nothing is raised",
    }
    loss_story(log, "train", "validation", "Adam 3e-3 on 10,000 samples, 5% flipped labels")
    log.negatives.append(
        Negative("train", ["epoch_loss"], OTHER_KINDS, "the training file simply ends early")
    )
    return log


def truncate_mid_record(path: Path, keep_fraction: float) -> dict[str, int]:
    """Cut a TFRecord file inside the record that straddles ``keep_fraction`` of its bytes.

    Framing per record: 8-byte length, 4-byte CRC of the length, data, 4-byte CRC of the data.
    The cut lands in the middle of that record's data, so the tail is a short read.
    """
    data = path.read_bytes()
    target = int(len(data) * keep_fraction)
    pos = count = 0
    while True:
        length = int.from_bytes(data[pos : pos + 8], "little")
        end = pos + 12 + length + 4
        if end > target:
            cut = pos + 12 + length // 2
            break
        pos, count = end, count + 1
    path.write_bytes(data[:cut])
    return {"complete_records": count, "partial_bytes": cut - pos}


def _mirror_iterations(log: Logdir) -> None:
    """Copy every validation label of an ``epoch_X`` tag to ``evaluation_X_vs_iterations``.

    Keras' callback writes the same validation values twice: ``epoch_X`` at the epoch index and
    ``evaluation_X_vs_iterations`` at the optimizer iteration. A phenomenon in one is in the
    other; its steps are mapped point by point. Overfitting (a cross-run pair) is not copied.
    """
    cache: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}

    def twin(run: str, tag: str) -> tuple[str, dict[int, int]] | None:
        if not (run == "validation" or run.endswith("/validation")) or not tag.startswith("epoch_"):
            return None
        if run not in cache:
            cache[run] = read_run(log.path / run)
        other = f"evaluation_{tag[len('epoch_') :]}_vs_iterations"
        if tag not in cache[run] or other not in cache[run]:
            return None
        a, b = cache[run][tag][0], cache[run][other][0]
        if len(a) != len(b):
            return None
        return other, {int(x): int(y) for x, y in zip(a, b, strict=True)}

    for label in list(log.labels):
        found = None if label.kind == "overfitting" else twin(label.run, label.tags[0])
        if found is None:
            continue
        other, at = found
        log.labels.append(
            dataclasses.replace(
                label,
                tags=[other],
                start_step=at[label.start_step],
                end_step=None if label.end_step is None else at[label.end_step],
                onset_range=None
                if label.onset_range is None
                else [at[label.onset_range[0]], at[label.onset_range[1]]],
                why=label.why + f" (same values as {label.tags[0]}, logged at the iteration)",
            )
        )
    for neg in list(log.negatives):
        tags = [t for t in (twin(neg.run, tag) for tag in neg.tags) if t is not None]
        if tags:
            log.negatives.append(
                dataclasses.replace(neg, tags=[t[0] for t in tags], kinds=list(neg.kinds))
            )


def _mirrored(fn: Callable[[Path, bool], Logdir]) -> Callable[[Path, bool], Logdir]:
    def run(out: Path, quick: bool) -> Logdir:
        log = fn(out, quick)
        _mirror_iterations(log)
        return log

    run.__doc__ = fn.__doc__
    return run


SCENARIOS: dict[str, Callable[[Path, bool], Logdir]] = {
    name: _mirrored(fn)
    for name, fn in {
        "keras_dense_diminishing": dense_diminishing,
        "keras_cnn_overfit": cnn_overfit,
        "keras_transfer_frozen": transfer_frozen,
        "keras_lr_too_high": lr_too_high,
        "keras_lr_too_low": lr_too_low,
        "keras_lr_schedules": lr_schedules,
        "keras_dead_relu": dead_relu,
        "keras_lr_zero_and_healthy": lr_zero_and_healthy,
        "keras_resumed": resumed,
        "keras_killed": killed,
    }.items()
}
SCENARIOS["tf_summary_custom_loop"] = custom_loop_cyclic
