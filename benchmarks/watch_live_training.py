"""A real PyTorch training run to point ``tbplateau watch`` at while it is written.

Usage (in an environment with torch and tensorboard, e.g. ``.venv-train``)::

    python benchmarks/watch_live_training.py LOGDIR [--epochs 90] [--pause 0.5]

An MLP regression on synthetic data, trained with SGD, logged by
``torch.utils.tensorboard.SummaryWriter`` (flushed every second): ``train/loss`` per
batch, ``lr`` at the start and ``val/loss`` at the end of each epoch (step = batches
seen). The LR schedule makes
the phases ``watch`` should announce, in order:

* epochs 0-24, LR 0.05: the losses fall;
* epochs 25-54, LR 0: nothing learns, ``val/loss`` is a flat line (a plateau);
* epochs 55-74, LR 0.05 again: the losses fall again (the plateau ends: resolved);
* epochs 75 on, LR 5: the loss diverges and goes non-finite (NaN / inf).

``--pause`` seconds between epochs makes the run last long enough to watch.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import time
from typing import Any


def lr_at(epoch: int) -> float:
    if epoch < 25:
        return 0.05
    if epoch < 55:
        return 0.0
    if epoch < 75:
        return 0.05
    return 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--epochs", type=int, default=90)
    parser.add_argument("--pause", type=float, default=0.5)
    args = parser.parse_args(argv)
    torch: Any = importlib.import_module("torch")
    tb: Any = importlib.import_module("torch.utils.tensorboard")

    torch.manual_seed(0)
    x = torch.randn(2048, 20)
    w = torch.randn(20, 1)
    y = torch.sin(x @ w) + 0.1 * torch.randn(2048, 1)
    x_train, y_train, x_val, y_val = x[:1536], y[:1536], x[1536:], y[1536:]
    model = torch.nn.Sequential(
        torch.nn.Linear(20, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 64),
        torch.nn.ReLU(),
        torch.nn.Linear(64, 1),
    )
    opt = torch.optim.SGD(model.parameters(), lr=lr_at(0), momentum=0.9)
    loss_fn = torch.nn.MSELoss()
    writer = tb.SummaryWriter(args.logdir, flush_secs=1)
    step = 0
    for epoch in range(args.epochs):
        for group in opt.param_groups:
            group["lr"] = lr_at(epoch)
        writer.add_scalar("lr", lr_at(epoch), step)
        order = torch.randperm(len(x_train))
        for batch in order.split(128):
            opt.zero_grad()
            loss = loss_fn(model(x_train[batch]), y_train[batch])
            loss.backward()
            opt.step()
            writer.add_scalar("train/loss", loss.item(), step)
            step += 1
        with torch.no_grad():
            val = loss_fn(model(x_val), y_val).item()
        writer.add_scalar("val/loss", val, step)
        writer.flush()
        shown = f"{val:.4f}" if math.isfinite(val) else str(val)
        now = time.strftime("%H:%M:%S")
        line = f"{now} epoch {epoch:3d} step {step:5d} lr {lr_at(epoch):g} val/loss {shown}"
        print(line, flush=True)
        time.sleep(args.pause)
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
