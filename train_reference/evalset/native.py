"""The same runs trained by each framework's own loop and written by its own TensorBoard writer.

================  ==========================================  ===================================
writer            runs                                        tags (one point per epoch)
================  ==========================================  ===================================
``keras``         ``<run>/train``, ``<run>/validation``        ``epoch_loss``, ``epoch_accuracy``
                  (``keras.callbacks.TensorBoard``)            (+ ``evaluation_*_vs_iterations``)
``lightning``     ``lightning_logs/version_0``                 ``train_loss``, ``train_acc``,
                  (``TensorBoardLogger``)                      ``val_loss``, ``val_acc``
``hf_trainer``    ``runs/<run>`` (``report_to="tensorboard"``)  ``train/loss``, ``eval/loss``,
                                                              ``eval/accuracy``
``flax``          ``<run>/train``, ``<run>/eval``              ``loss``, ``accuracy``
                  (``flax.metrics.tensorboard``)
================  ==========================================  ===================================

The LR plan, the poisoned bias and every other intervention of the spec are applied by each
framework's own hooks (a Keras callback, Lightning's batch hook, a ``LambdaLR`` handed to the
Trainer, optax's ``inject_hyperparams``). The series are labelled by position: point ``i`` is
epoch ``i`` (``Layout.steps_per_epoch`` 0).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from train_reference.evalset.data import Dataset, load
from train_reference.evalset.labelling import Layout
from train_reference.evalset.spec import RunSpec

__all__ = ["run"]

Result = tuple[Layout, dict[str, int], str, dict[str, Any]]
PER_EPOCH = "one point per epoch; the writer's own step (epoch index or global optimizer step)"


def _run_name(spec: RunSpec) -> str:
    return f"{spec.dataset}_{spec.model}_{spec.optimizer}"


def _layout(series: dict[str, tuple[str, str]]) -> Layout:
    return Layout(series, dict.fromkeys(series, 0), {})


def _sizes(data: Dataset) -> dict[str, int]:
    return {"train": len(data.x_train), "val": len(data.x_val)}


def run(spec: RunSpec, root: Path) -> Result:
    data = load(spec.dataset, spec.seed, train_size=spec.train_size)
    return {"keras": _keras, "lightning": _lightning, "hf_trainer": _hf, "flax": _flax}[
        spec.writer
    ](spec, data, root)


# ------------------------------------------------------------------------------------ keras


def _keras(spec: RunSpec, data: Dataset, root: Path) -> Result:
    import keras  # type: ignore[import-untyped]
    import tensorflow as tf  # type: ignore[import-untyped]

    keras.utils.set_random_seed(spec.seed)
    tf.config.experimental.enable_op_determinism()
    kl = keras.layers
    out = data.classes if data.task == "class" else 1
    act = "tanh" if spec.model == "mlp_tanh" else "relu"
    width = spec.width * (8 if spec.model == "wide_mlp" else 1)
    layers: list[Any] = [keras.Input((data.features,))]
    if spec.model == "cnn":
        layers += [
            kl.Reshape((8, 8, 1)),
            kl.Conv2D(spec.width // 2, 3, padding="same", activation="relu"),
            kl.Conv2D(spec.width, 3, padding="same", activation="relu"),
            kl.MaxPooling2D(2),
            kl.Flatten(),
        ]
    else:
        layers.append(kl.Dense(width, activation=act))
    layers += [
        kl.Dense(width if spec.model != "cnn" else spec.width, activation=act),
        kl.Dense(out),
    ]
    model = keras.Sequential(layers)
    opt = {
        "adam": lambda: keras.optimizers.Adam(spec.lr),
        "adamw": lambda: keras.optimizers.AdamW(spec.lr, weight_decay=0.01),
        "rmsprop": lambda: keras.optimizers.RMSprop(spec.lr),
        "momentum": lambda: keras.optimizers.SGD(spec.lr, momentum=0.9),
        "sgd": lambda: keras.optimizers.SGD(spec.lr),
    }[spec.optimizer]()
    if data.task == "class":
        model.compile(
            opt, keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
        )
    else:
        model.compile(opt, "mse")
    poison = {iv.epoch: iv.factor for iv in spec.interventions if iv.what == "poison"}

    class Plan(keras.callbacks.Callback):  # type: ignore[misc]
        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.model.optimizer.learning_rate.assign(spec.lr_at(epoch))
            if epoch in poison:
                kernel, bias = self.model.layers[-2].get_weights()
                self.model.layers[-2].set_weights([kernel, np.full_like(bias, poison[epoch])])

    run = _run_name(spec)
    tb = keras.callbacks.TensorBoard(
        log_dir=str(root / run), histogram_freq=0, write_graph=False, update_freq="epoch"
    )
    model.fit(
        data.x_train,
        data.y_train,
        batch_size=spec.batch or len(data.x_train),
        epochs=spec.epochs,
        validation_data=(data.x_val, data.y_val),
        verbose=0,
        callbacks=[Plan(), tb],
        shuffle=True,
    )
    series = {
        "train/loss": (f"{run}/train", "epoch_loss"),
        "val/loss": (f"{run}/validation", "epoch_loss"),
    }
    if data.task == "class":
        series["train/accuracy"] = (f"{run}/train", "epoch_accuracy")
        series["val/accuracy"] = (f"{run}/validation", "epoch_accuracy")
    conv = "step = epoch index (0-based), Keras TensorBoard callback with update_freq='epoch'"
    return _layout(series), _sizes(data), conv, {"resumed_from": None}


# ----------------------------------------------------------------------------- torch helpers


def _torch_model(spec: RunSpec, data: Dataset) -> Any:
    from train_reference.evalset.torch_engine import build_model, seed_everything

    seed_everything(spec.seed)
    return build_model(spec, data)


# -------------------------------------------------------------------------------- lightning


def _lightning(spec: RunSpec, data: Dataset, root: Path) -> Result:
    import lightning as pl  # type: ignore[import-untyped]
    import torch
    from lightning.pytorch.loggers import TensorBoardLogger  # type: ignore[import-untyped]

    from train_reference.evalset.torch_engine import last_hidden_bias, make_optimizer

    pl.seed_everything(spec.seed, verbose=False)
    net = _torch_model(spec, data)
    classify = data.task == "class"
    xt, yt = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    xv, yv = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
    batch = spec.batch or len(xt)
    spe = math.ceil(len(xt) / batch)
    poison = {iv.epoch: iv.factor for iv in spec.interventions if iv.what == "poison"}

    def loss_of(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if classify:
            return torch.nn.functional.cross_entropy(out, y)
        return torch.nn.functional.mse_loss(out.squeeze(1), y)

    class Module(pl.LightningModule):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def training_step(self, b: Any, i: int) -> torch.Tensor:
            out = self.net(b[0])
            loss = loss_of(out, b[1])
            self.log("train_loss", loss, on_step=False, on_epoch=True)
            if classify:
                acc = (out.argmax(1) == b[1]).float().mean()
                self.log("train_acc", acc, on_step=False, on_epoch=True)
            return loss

        def validation_step(self, b: Any, i: int) -> None:
            out = self.net(b[0])
            self.log("val_loss", loss_of(out, b[1]), on_epoch=True)
            if classify:
                self.log("val_acc", (out.argmax(1) == b[1]).float().mean(), on_epoch=True)

        def on_train_epoch_start(self) -> None:
            if self.current_epoch in poison:
                with torch.no_grad():
                    last_hidden_bias(self.net).fill_(poison[self.current_epoch])

        def on_train_batch_start(self, b: Any, i: int) -> None:
            lr = spec.lr_at(self.current_epoch, i / spe)
            for group in self.optimizers().param_groups:
                group["lr"] = lr

        def configure_optimizers(self) -> Any:
            return make_optimizer(spec, self.parameters())

    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(xt, yt),
        batch_size=batch,
        shuffle=spec.batch is not None,
        generator=torch.Generator().manual_seed(spec.seed),
    )
    val_loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(xv, yv), batch_size=len(xv)
    )
    trainer = pl.Trainer(
        max_epochs=spec.epochs,
        logger=TensorBoardLogger(save_dir=str(root), name="lightning_logs", version=0),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        deterministic=True,
        accelerator="cpu",
        devices=1,
        num_sanity_val_steps=0,
        log_every_n_steps=1,
    )
    trainer.fit(Module(), loader, val_loader)
    run = "lightning_logs/version_0"
    series = {"train/loss": (run, "train_loss"), "val/loss": (run, "val_loss")}
    if classify:
        series["train/accuracy"] = (run, "train_acc")
        series["val/accuracy"] = (run, "val_acc")
    conv = (
        "step = global optimizer step (Lightning); every metric logged once per epoch, at "
        "the step reached at the epoch's end"
    )
    return _layout(series), _sizes(data), conv, {"resumed_from": None}


# ---------------------------------------------------------------------------------- HF Trainer


def _hf(spec: RunSpec, data: Dataset, root: Path) -> Result:
    import torch
    import transformers  # type: ignore[import-untyped]

    from train_reference.evalset.torch_engine import last_hidden_bias, make_optimizer

    transformers.set_seed(spec.seed, deterministic=True)
    net = _torch_model(spec, data)
    classify = data.task == "class"

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Any:
            logits = self.net(x)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = (
                    torch.nn.functional.cross_entropy(logits, labels)
                    if classify
                    else torch.nn.functional.mse_loss(logits.squeeze(1), labels)
                )
            return out

    class DS(torch.utils.data.Dataset):  # type: ignore[type-arg]
        def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
            self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

        def __len__(self) -> int:
            return len(self.x)

        def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
            return {"x": self.x[i], "labels": self.y[i]}

    batch = spec.batch or len(data.x_train)
    spe = math.ceil(len(data.x_train) / batch)
    model = Model()
    opt = make_optimizer(spec, model.parameters())
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: spec.lr_at(step // spe, (step % spe) / spe) / spec.lr
    )
    poison = {iv.epoch: iv.factor for iv in spec.interventions if iv.what == "poison"}

    class Poison(transformers.TrainerCallback):  # type: ignore[misc]
        def on_epoch_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            epoch = round(state.epoch or 0)
            if epoch in poison:
                with torch.no_grad():
                    last_hidden_bias(net).fill_(poison[epoch])

    def metrics(p: Any) -> dict[str, float]:
        if not classify:
            return {}
        return {"accuracy": float((np.argmax(p.predictions, 1) == p.label_ids).mean())}

    run = f"runs/{_run_name(spec)}"
    work = root / ".hf_output"
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(root / run)
    args = transformers.TrainingArguments(
        output_dir=str(work),
        num_train_epochs=spec.epochs,
        per_device_train_batch_size=batch,
        per_device_eval_batch_size=len(data.x_val),
        eval_strategy="epoch",
        logging_strategy="epoch",
        save_strategy="no",
        report_to=["tensorboard"],
        use_cpu=True,
        seed=spec.seed,
        data_seed=spec.seed,
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        max_grad_norm=1e9,
    )
    trainer = transformers.Trainer(
        model=model,
        args=args,
        train_dataset=DS(data.x_train, data.y_train),
        eval_dataset=DS(data.x_val, data.y_val),
        optimizers=(opt, sched),
        compute_metrics=metrics,
        callbacks=[Poison()],
    )
    trainer.remove_callback(transformers.PrinterCallback)
    trainer.train()
    del os.environ["TENSORBOARD_LOGGING_DIR"]
    shutil.rmtree(work, ignore_errors=True)
    series = {"train/loss": (run, "train/loss"), "val/loss": (run, "eval/loss")}
    if classify:
        series["val/accuracy"] = (run, "eval/accuracy")
    conv = "step = global optimizer step (state.global_step); train/loss and eval/* once per epoch"
    return _layout(series), _sizes(data), conv, {"resumed_from": None}


# ---------------------------------------------------------------------------------------- flax


def _flax(spec: RunSpec, data: Dataset, root: Path) -> Result:
    import jax
    import jax.numpy as jnp
    import optax  # type: ignore[import-untyped]
    from flax import linen as nn  # type: ignore[import-untyped]
    from flax.metrics import tensorboard  # type: ignore[import-untyped]

    classify = data.task == "class"
    outputs = data.classes if classify else 1
    act = nn.tanh if spec.model == "mlp_tanh" else nn.relu

    class MLP(nn.Module):  # type: ignore[misc]
        @nn.compact
        def __call__(self, x: Any) -> Any:
            h = act(nn.Dense(spec.width)(x))
            h = act(nn.Dense(spec.width)(h))
            return nn.Dense(outputs)(h)

    model = MLP()

    def loss_fn(params: Any, x: Any, y: Any) -> Any:
        out = model.apply(params, x)
        if classify:
            return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()
        return ((out[:, 0] - y) ** 2).mean()

    base = {
        "adam": optax.adam,
        "adamw": optax.adamw,
        "rmsprop": optax.rmsprop,
        "sgd": optax.sgd,
        "momentum": lambda learning_rate: optax.sgd(learning_rate, 0.9),
    }
    tx = optax.inject_hyperparams(base[spec.optimizer])(learning_rate=spec.lr)
    params = model.init(jax.random.PRNGKey(spec.seed), jnp.zeros((1, data.features)))
    state = tx.init(params)

    @jax.jit  # type: ignore[misc]
    def step(params: Any, state: Any, x: Any, y: Any) -> Any:
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    @jax.jit  # type: ignore[misc]
    def evaluate(params: Any, x: Any, y: Any) -> Any:
        out = model.apply(params, x)
        acc = (jnp.argmax(out, 1) == y).mean() if classify else 0.0
        return loss_fn(params, x, y), acc

    run = _run_name(spec)
    writers = {s: tensorboard.SummaryWriter(str(root / run / s)) for s in ("train", "eval")}
    rng = np.random.default_rng(spec.seed)
    batch = spec.batch or len(data.x_train)
    for epoch in range(spec.epochs):
        order = rng.permutation(len(data.x_train)) if spec.batch else np.arange(len(data.x_train))
        losses, correct = [], 0.0
        for b, start in enumerate(range(0, len(order), batch)):
            spe = math.ceil(len(order) / batch)
            state.hyperparams["learning_rate"] = jnp.asarray(spec.lr_at(epoch, b / spe))
            idx = order[start : start + batch]
            params, state, loss = step(params, state, data.x_train[idx], data.y_train[idx])
            losses.append(float(loss))
            if classify:
                correct += float(evaluate(params, data.x_train[idx], data.y_train[idx])[1]) * len(
                    idx
                )
        writers["train"].scalar("loss", float(np.mean(losses)), epoch)
        if classify:
            writers["train"].scalar("accuracy", correct / len(order), epoch)
        vloss, vacc = evaluate(params, data.x_val, data.y_val)
        writers["eval"].scalar("loss", float(vloss), epoch)
        if classify:
            writers["eval"].scalar("accuracy", float(vacc), epoch)
    for w in writers.values():
        w.close()
    series = {"train/loss": (f"{run}/train", "loss"), "val/loss": (f"{run}/eval", "loss")}
    if classify:
        series["train/accuracy"] = (f"{run}/train", "accuracy")
        series["val/accuracy"] = (f"{run}/eval", "accuracy")
    conv = "step = epoch index (0-based), flax.metrics.tensorboard.SummaryWriter"
    return _layout(series), _sizes(data), conv, {"resumed_from": None}
