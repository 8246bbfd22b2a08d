"""PyTorch-family reference runs, each written by the framework's real TensorBoard writer.

* ``torch_summarywriter``: ``torch.utils.tensorboard.SummaryWriter`` (``add_scalar`` with
  ``Loss/train``-style tags, and ``add_scalars``, which writes one sub-run per series).
* ``tensorboardx_nan``: ``tensorboardX.SummaryWriter``, per-step logging, divergence to NaN.
* ``lightning_logs``: PyTorch Lightning's ``TensorBoardLogger`` (``lightning_logs/version_N``,
  ``train_loss`` per step, ``val_loss`` per epoch at the global step, ``epoch``, ``hp_metric``).
* ``hf_trainer``: Hugging Face ``transformers.Trainer`` with ``report_to="tensorboard"``
  (``train/loss``, ``eval/loss``, ``train/learning_rate``, ... at the global step).

Determinism: ``torch.manual_seed`` and ``torch.use_deterministic_algorithms(True)`` on CPU; the
only non-reproducible values are wall times and Hugging Face's ``*_runtime`` /
``*_per_second`` series, which measure the machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from train_reference.common import (
    Label,
    Logdir,
    Negative,
    first_nonfinite,
    frozen_from,
    loss_story,
    read_run,
    reset_dir,
)
from train_reference.data import binary_tabular, regression

OTHER_KINDS = ["divergence", "nonfinite", "oscillation"]


def _seed(seed: int) -> None:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))


def _mlp(d: int, width: int, depth: int = 2) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(d if i == 0 else width, width), nn.ReLU()]
    layers.append(nn.Linear(width, 1))
    return nn.Sequential(*layers)


def _tensors(*arrays: np.ndarray) -> list[torch.Tensor]:
    return [torch.from_numpy(np.ascontiguousarray(a)) for a in arrays]


def _overfit_label(
    run: str,
    tags: list[str],
    val: tuple[np.ndarray, np.ndarray],
    why: str,
    other_run: str | None = None,
) -> Label:
    steps, values = val
    best = int(np.argmin(values))
    near = steps[values <= values[best] + 0.02 * (values.max() - values[best])]
    return Label(
        run,
        "overfitting",
        tags,
        int(steps[best]),
        int(steps[-1]),
        why + "; start = step of the minimum validation loss (computed from the logged "
        "curve), range = steps within 2% of the rise of it",
        onset_range=[int(near.min()), int(near.max())],
        other_run=other_run,
    )


# --------------------------------------------------------------------------------------------


def torch_summarywriter(out: Path, quick: bool) -> Logdir:
    """A wide MLP on 300 noisy-label samples: the validation loss dips and then climbs."""
    from torch.utils.tensorboard import SummaryWriter

    root = reset_dir(out / "torch_summarywriter")
    epochs = 60 if quick else 150
    _seed(21)
    x, y = binary_tabular(2300, d=32, seed=21, label_noise=0.2)
    xt, yt, xv, yv = _tensors(x[:300], y[:300], x[300:], y[300:])
    model = _mlp(32, 256)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    run = "runs/mlp_overfit"
    writer = SummaryWriter(log_dir=str(root / run))
    gen = torch.Generator().manual_seed(21)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(xt), generator=gen).split(50):
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]).squeeze(1), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        model.eval()
        with torch.no_grad():
            logits = model(xv).squeeze(1)
            val_loss = float(loss_fn(logits, yv))
            val_acc = float(((logits > 0).float() == yv).float().mean())
        train_loss = total / len(xt)
        writer.add_scalar("Loss/train", train_loss, epoch)
        writer.add_scalar("Loss/val", val_loss, epoch)
        writer.add_scalar("Accuracy/val", val_acc, epoch)
        writer.add_scalars("Loss", {"train": train_loss, "val": val_loss}, epoch)
    writer.close()
    log = Logdir(
        root,
        "pytorch",
        "torch.utils.tensorboard.SummaryWriter",
        "step = epoch index (0-based), passed as global_step",
        "overfitting (PyTorch)",
    )
    why = "300 training samples with 20% flipped labels, a 256-256 MLP, Adam 2e-4: it memorises"
    val = read_run(root / run)["Loss/val"]
    log.labels.append(_overfit_label(run, ["Loss/val", "Loss/train"], val, why))
    sub = read_run(root / f"{run}/Loss_val")["Loss"]
    log.labels.append(
        _overfit_label(
            f"{run}/Loss_val",
            ["Loss", "Loss"],
            sub,
            why + " (add_scalars sub-runs)",
            other_run=f"{run}/Loss_train",
        )
    )
    log.negatives.append(
        Negative(run, ["Loss/train"], ["divergence", "nonfinite"], "training loss falls throughout")
    )
    log.notes.append(
        "add_scalars('Loss', {'train', 'val'}) writes runs/mlp_overfit/Loss_train and "
        "runs/mlp_overfit/Loss_val, each with the tag 'Loss'"
    )
    return log


def tensorboardx_nan(out: Path, quick: bool) -> Logdir:
    """Linear regression logged every step with tensorboardX; lr raised 24x at a known step."""
    from tensorboardX import SummaryWriter

    root = reset_dir(out / "tensorboardx_nan")
    steps_total = 300 if quick else 600
    raise_at, lr_ok, lr_bad = 100, 0.05, 1.2
    _seed(22)
    x, y = regression(4000, seed=22)
    xt, yt = _tensors(x, y)
    model = nn.Linear(16, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr_ok)
    run = "runs/linear_lr_too_high"
    writer = SummaryWriter(logdir=str(root / run))
    gen = torch.Generator().manual_seed(22)
    order = torch.randperm(len(xt), generator=gen)
    for step in range(steps_total):
        lr = lr_bad if step >= raise_at else lr_ok
        for group in opt.param_groups:
            group["lr"] = lr
        idx = order[(step * 500) % len(xt) :][:500]
        opt.zero_grad()
        loss = ((model(xt[idx]) - yt[idx]) ** 2).mean()
        loss.backward()
        opt.step()
        writer.add_scalar("train/loss", float(loss), step)
        writer.add_scalar("train/lr", lr, step)
    writer.close()
    steps, values = read_run(root / run)["train/loss"]
    bad = first_nonfinite(steps, values)
    log = Logdir(
        root,
        "pytorch",
        "tensorboardX.SummaryWriter",
        "step = optimizer step (0-based)",
        "4 divergence then NaN (tensorboardX)",
    )
    log.labels.append(
        Label(
            run,
            "divergence",
            ["train/loss"],
            raise_at,
            (bad - 1) if bad is not None else int(steps[-1]),
            f"SGD lr raised from {lr_ok} to {lr_bad} at step {raise_at} (past the stability "
            "limit); "
            "the loss grows geometrically until it overflows",
            onset_range=[raise_at, raise_at + 5],
        )
    )
    if bad is not None:
        log.labels.append(
            Label(
                run,
                "nonfinite",
                ["train/loss"],
                bad,
                int(steps[-1]),
                "first non-finite logged value (read back from the event file)",
            )
        )
    return log


# --------------------------------------------------------------------------------------------


def lightning_logs(out: Path, quick: bool) -> Logdir:
    """Lightning TensorBoardLogger: version_0 sets lr = 0 at a known epoch, version_1 is healthy."""
    import lightning as pl  # type: ignore[import-untyped]
    from lightning.pytorch.loggers import TensorBoardLogger  # type: ignore[import-untyped]

    root = reset_dir(out / "lightning")
    epochs = 24 if quick else 60
    zero_at = epochs // 2
    x, y = binary_tabular(12_000, d=16, seed=23, label_noise=0.05)
    xt, yt, xv, yv = _tensors(x[:10_000], y[:10_000], x[10_000:], y[10_000:])

    class Classifier(pl.LightningModule):  # type: ignore[misc]
        def __init__(self, zero_at: int | None) -> None:
            super().__init__()
            self.net = _mlp(16, 16)
            self.zero_at = zero_at
            self.loss_fn = nn.BCEWithLogitsLoss()

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            xb, yb = batch
            loss = self.loss_fn(self.net(xb).squeeze(1), yb)
            self.log("train_loss", loss, on_step=True, on_epoch=False)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            xb, yb = batch
            self.log("val_loss", self.loss_fn(self.net(xb).squeeze(1), yb), on_epoch=True)

        def on_train_epoch_start(self) -> None:
            if self.zero_at is not None and self.current_epoch >= self.zero_at:
                for group in self.optimizers().param_groups:  # type: ignore[union-attr]
                    group["lr"] = 0.0

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    log = Logdir(
        root,
        "pytorch-lightning",
        "lightning.pytorch.loggers.TensorBoardLogger",
        "step = global optimizer step (Lightning's trainer/global_step); val_loss is logged "
        "once per epoch at the global step reached at that epoch's end",
        "8 LR zero (Lightning)",
    )
    for version, zero in ((0, zero_at), (1, None)):
        pl.seed_everything(23 + version, verbose=False)
        _seed(23 + version)
        loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(xt, yt),
            batch_size=200,
            shuffle=True,
            generator=torch.Generator().manual_seed(23),
        )
        val_loader = torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(xv, yv), batch_size=1000
        )
        trainer = pl.Trainer(
            max_epochs=epochs,
            logger=TensorBoardLogger(save_dir=str(root), name="lightning_logs", version=version),
            log_every_n_steps=5,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            deterministic=True,
            accelerator="cpu",
            devices=1,
        )
        trainer.fit(Classifier(zero), loader, val_loader)
        run = f"lightning_logs/version_{version}"
        series = read_run(root / run)
        vsteps, vloss = series["val_loss"]
        if zero is not None:
            # validation after epoch zero_at - 1 already sees the final weights
            start = int(vsteps[zero - 1])
            log.labels.append(
                Label(
                    run,
                    "plateau",
                    ["val_loss"],
                    start,
                    int(vsteps[-1]),
                    f"all param_groups' lr set to 0 at the start of epoch {zero}; validation loss "
                    "bit-for-bit constant from the validation at the end of the epoch before "
                    f"(frozen_from on the logged curve: {frozen_from(vsteps, vloss)})",
                    exact=True,
                )
            )
            tsteps, _ = series["train_loss"]
            first = int(tsteps[tsteps > vsteps[zero - 1]][0])
            log.labels.append(
                Label(
                    run,
                    "plateau",
                    ["train_loss"],
                    first,
                    int(tsteps[-1]),
                    f"lr = 0 from epoch {zero}: the per-step training loss only varies with the "
                    "batch "
                    "drawn (weights frozen), a pure-noise plateau; start = first logged step of "
                    "that "
                    "epoch",
                )
            )
        else:
            loss_story(log, run, run, "healthy run, Adam 1e-3", "val_loss", train_tag="train_loss")
            log.negatives.append(
                Negative(run, ["train_loss", "val_loss"], OTHER_KINDS, "healthy run")
            )
    return log


# --------------------------------------------------------------------------------------------


class _HFModel(nn.Module):
    """The smallest model ``transformers.Trainer`` accepts: returns ``{"loss", "logits"}``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp(32, 256)

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        logits = self.net(x).squeeze(1)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = nn.functional.binary_cross_entropy_with_logits(logits, labels)
        return out


class _DictDataset(torch.utils.data.Dataset):  # type: ignore[type-arg]
    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = _tensors(x, y)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "labels": self.y[i]}


def hf_trainer(out: Path, quick: bool) -> Logdir:
    """``transformers.Trainer`` on 300 noisy-label samples, evaluated every epoch: overfitting."""
    import transformers  # type: ignore[import-untyped]

    root = reset_dir(out / "hf_trainer")
    epochs = 40 if quick else 100
    x, y = binary_tabular(2300, d=32, seed=24, label_noise=0.2)
    work = out / ".hf_trainer_output"
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(root / "runs" / "mlp_overfit")
    transformers.set_seed(24, deterministic=True)
    args = transformers.TrainingArguments(
        output_dir=str(work),
        num_train_epochs=epochs,
        per_device_train_batch_size=50,
        per_device_eval_batch_size=500,
        learning_rate=2e-4,
        lr_scheduler_type="constant",
        eval_strategy="epoch",
        logging_strategy="steps",
        logging_steps=6,
        save_strategy="no",
        report_to=["tensorboard"],
        use_cpu=True,
        seed=24,
        data_seed=24,
        disable_tqdm=True,
        remove_unused_columns=False,
        dataloader_num_workers=0,
    )
    trainer = transformers.Trainer(
        model=_HFModel(),
        args=args,
        train_dataset=_DictDataset(x[:300], y[:300]),
        eval_dataset=_DictDataset(x[300:], y[300:]),
    )
    trainer.remove_callback(transformers.PrinterCallback)  # keep stdout quiet; logging unchanged
    trainer.train()
    del os.environ["TENSORBOARD_LOGGING_DIR"]
    shutil.rmtree(work, ignore_errors=True)
    run = "runs/mlp_overfit"
    series = read_run(root / run)
    log = Logdir(
        root,
        "huggingface-transformers",
        "transformers.Trainer (TensorBoardCallback)",
        "step = global optimizer step (state.global_step); eval/* once per epoch",
        "overfitting (Hugging Face)",
    )
    log.labels.append(
        _overfit_label(
            run,
            ["eval/loss", "train/loss"],
            series["eval/loss"],
            "300 training samples with 20% flipped labels, a 256-256 MLP, constant lr 2e-4",
        )
    )
    log.negatives.append(
        Negative(
            run,
            ["train/learning_rate"],
            ["divergence", "nonfinite", "oscillation"],
            "constant learning rate",
        )
    )
    log.notes.append(
        "eval/runtime, eval/samples_per_second, eval/steps_per_second and "
        "train/train_runtime measure the machine: not reproducible, unlabelled"
    )
    return log


SCENARIOS: dict[str, Callable[[Path, bool], Logdir]] = {
    "torch_summarywriter": torch_summarywriter,
    "tensorboardx_nan": tensorboardx_nan,
    "lightning": lightning_logs,
    "hf_trainer": hf_trainer,
}
