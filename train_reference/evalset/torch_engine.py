"""Train a small PyTorch model as a :class:`~.spec.RunSpec` says, logging live.

The loop calls ``sink.scalar(split, metric, value, step)`` for every logged value; the sinks in
:mod:`train_reference.evalset.writers` turn that into each writer's own layout. Per epoch it logs
``loss`` (the mean of the epoch's batch losses) and, for classifiers, ``accuracy`` on the training
batches, then ``loss`` and ``accuracy`` on the validation set; with ``per_step`` the training loss
is logged every optimizer step instead (the validation values stay per epoch, at the step reached
at the epoch's end). ``lr`` is logged too (split ``"train"``). Steps: epoch index, or the global
optimizer step with ``per_step``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from train_reference.evalset.data import Dataset
from train_reference.evalset.spec import RunSpec

__all__ = ["Sink", "build_model", "train"]


class Sink(Protocol):
    def scalar(self, split: str, metric: str, value: float, step: int) -> None: ...

    def close(self) -> None: ...


def seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # tiny models: more threads only contend (10x slower on 2 cores)


class _CNN(nn.Module):
    def __init__(self, classes: int, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width // 2, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(width // 2, width, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(width * 16, width),
            nn.ReLU(),
        )
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.body(x.view(-1, 1, 8, 8)))
        return out


def build_model(spec: RunSpec, data: Dataset) -> nn.Module:
    outputs = data.classes if data.task == "class" else 1
    if spec.model == "cnn":
        return _CNN(outputs, spec.width)
    if spec.model == "linear":
        return nn.Sequential(nn.Linear(data.features, outputs))
    act: type[nn.Module] = nn.Tanh if spec.model == "mlp_tanh" else nn.ReLU
    width = spec.width * (8 if spec.model == "wide_mlp" else 1)
    layers: list[nn.Module] = [nn.Linear(data.features, width), act()]
    layers += [nn.Linear(width, width), act()]
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def last_hidden_bias(model: nn.Module) -> torch.Tensor:
    """The bias of the last linear layer before the output (the one ``poison`` overwrites)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    bias = linears[-2].bias
    assert bias is not None
    return bias


def make_optimizer(spec: RunSpec, params: Any) -> torch.optim.Optimizer:
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr)
    if spec.optimizer == "momentum":
        return torch.optim.SGD(params, lr=spec.lr, momentum=0.9)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr)
    if spec.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.01)
    if spec.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=spec.lr)
    raise ValueError(f"unknown optimizer {spec.optimizer!r}")


def _loss_fn(data: Dataset) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if data.task == "class":
        return nn.functional.cross_entropy
    return lambda out, y: nn.functional.mse_loss(out.squeeze(1), y)


def _evaluate(model: nn.Module, data: Dataset) -> tuple[float, float | None]:
    model.eval()
    with torch.no_grad():
        x, y = torch.from_numpy(data.x_val), torch.from_numpy(data.y_val)
        out = model(x)
        loss = float(_loss_fn(data)(out, y))
        acc = float((out.argmax(1) == y).float().mean()) if data.task == "class" else None
    model.train()
    return loss, acc


def _poison(model: nn.Module, value: float) -> None:
    with torch.no_grad():
        last_hidden_bias(model).fill_(value)


def train(
    spec: RunSpec,
    data: Dataset,
    open_sink: Callable[[int], Sink],
    *,
    on_epoch: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Run ``spec``; ``open_sink(session)`` opens the writer (session 1 after a resume).

    Returns what the script did: ``{"steps_per_epoch": k, "resumed_from": epoch or None,
    "crashed_at": epoch or None}``.
    """
    seed_everything(spec.seed)
    model = build_model(spec, data)
    opt = make_optimizer(spec, model.parameters())
    loss_fn = _loss_fn(data)
    xt, yt = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    gen = torch.Generator().manual_seed(spec.seed)
    batch = spec.batch or len(xt)
    steps_per_epoch = math.ceil(len(xt) / batch)
    crash = next((iv for iv in spec.interventions if iv.what == "crash"), None)
    poison = {iv.epoch: iv.factor for iv in spec.interventions if iv.what == "poison"}
    sink = open_sink(0)
    checkpoint: tuple[Any, Any] | None = None
    info: dict[str, Any] = {"steps_per_epoch": steps_per_epoch, "resumed_from": None}
    info["crashed_at"] = None
    epoch = 0
    crashed = False
    first_loss = math.inf
    while epoch < spec.epochs:
        if crash is not None and epoch == crash.epoch and not crashed:
            checkpoint = (copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict()))
        if epoch in poison and not crashed:
            _poison(model, poison[epoch])
        factor = crash.factor if crash is not None and not crashed and epoch >= crash.epoch else 1
        losses: list[float] = []
        correct = 0
        order = torch.randperm(len(xt), generator=gen) if spec.batch else torch.arange(len(xt))
        for b, idx in enumerate(order.split(batch)):
            lr = spec.lr_at(epoch, b / steps_per_epoch) * factor
            for group in opt.param_groups:
                group["lr"] = lr
            opt.zero_grad()
            out = model(xt[idx])
            loss = loss_fn(out, yt[idx])
            loss.backward()
            opt.step()
            losses.append(float(loss))
            if data.task == "class":
                correct += int((out.argmax(1) == yt[idx]).sum())
            if spec.per_step:
                step = epoch * steps_per_epoch + b
                sink.scalar("train", "loss", losses[-1], step)
                if b % 10 == 0:
                    sink.scalar("train", "lr", lr, step)
        end_step = (epoch + 1) * steps_per_epoch - 1 if spec.per_step else epoch
        if not spec.per_step:
            sink.scalar("train", "loss", float(np.mean(losses)), end_step)
            sink.scalar("train", "lr", spec.lr_at(epoch) * factor, end_step)
            if data.task == "class":
                sink.scalar("train", "accuracy", correct / len(xt), end_step)
        val_loss, val_acc = _evaluate(model, data)
        sink.scalar("val", "loss", val_loss, end_step)
        if val_acc is not None:
            sink.scalar("val", "accuracy", val_acc, end_step)
        if on_epoch is not None:
            on_epoch(epoch, val_loss)
        if epoch == 0:
            first_loss = float(np.mean(losses))
        blown = not math.isfinite(float(np.mean(losses))) or np.mean(losses) > 100 * first_loss
        if crash is not None and not crashed and epoch >= crash.epoch and blown:
            # the run "dies" (non-finite, or 100x its first loss: a loss guard stops it); a
            # second writer session resumes from the checkpoint with the old LR
            sink.close()
            assert checkpoint is not None
            model.load_state_dict(checkpoint[0])
            opt.load_state_dict(checkpoint[1])
            crashed = True
            info["crashed_at"], info["resumed_from"] = epoch, crash.epoch
            sink = open_sink(1)
            epoch = crash.epoch
            continue
        epoch += 1
    sink.close()
    return info
