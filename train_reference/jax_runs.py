"""JAX / Flax reference runs, written by ``flax.metrics.tensorboard.SummaryWriter``.

That writer wraps ``tf.summary`` (so its files are TF2 tensor scalars, like Keras'); the model,
gradients and optimiser are JAX + optax. Two runs in one logdir:

* ``healthy``: Adam on a small tanh MLP, converges (plateau with a fuzzy onset; negatives
  otherwise).
* ``warm_restarts``: plain SGD with ``optax.sgdr_schedule`` (cosine annealing with warm restarts
  every ``period`` steps): the loss jumps at every restart and recovers, an oscillation of known
  period.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from train_reference.common import Label, Logdir, Negative, loss_story, read_run, reset_dir
from train_reference.data import binary_tabular

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def flax_runs(out: Path, quick: bool) -> Logdir:
    """Train a Flax MLP twice (healthy; SGDR) with per-step logging through Flax's writer."""
    import jax
    import jax.numpy as jnp
    import optax  # type: ignore[import-untyped]
    from flax import linen as nn  # type: ignore[import-untyped]
    from flax.metrics import tensorboard  # type: ignore[import-untyped]

    root = reset_dir(out / "flax")
    steps_total = 1200 if quick else 4000
    period = 200
    x, y = binary_tabular(12_000, d=16, seed=31, label_noise=0.0)
    xt, yt, xv, yv = x[:10_000], y[:10_000], x[10_000:], y[10_000:]

    class MLP(nn.Module):  # type: ignore[misc]
        @nn.compact
        def __call__(self, inputs: Any) -> Any:
            h = nn.tanh(nn.Dense(32)(inputs))
            h = nn.tanh(nn.Dense(32)(h))
            return nn.Dense(1)(h)[:, 0]

    model = MLP()

    def loss_fn(params: Any, xb: Any, yb: Any) -> Any:
        return optax.sigmoid_binary_cross_entropy(model.apply(params, xb), yb).mean()

    schedules: dict[str, Any] = {
        "healthy": optax.adam(1e-3),
        "warm_restarts": optax.sgd(
            optax.sgdr_schedule(
                [
                    {
                        "init_value": 0.05,
                        "peak_value": 15.0,
                        "warmup_steps": 10,
                        "decay_steps": period,
                        "end_value": 0.05,
                    }
                ]
                * (steps_total // period)
            )
        ),
    }
    log = Logdir(
        root,
        "jax/flax",
        "flax.metrics.tensorboard.SummaryWriter",
        "step = optimizer step (0-based); train/loss every step, eval/loss every 20 steps",
        "oscillation (SGDR) and a healthy run (Flax)",
    )
    for name, tx in schedules.items():
        params = model.init(jax.random.PRNGKey(31), jnp.zeros((1, 16)))
        opt_state = tx.init(params)

        @jax.jit  # type: ignore[misc]
        def step_fn(params: Any, opt_state: Any, xb: Any, yb: Any, tx: Any = tx) -> Any:
            loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb)
            updates, opt_state = tx.update(grads, opt_state, params)
            return optax.apply_updates(params, updates), opt_state, loss

        writer = tensorboard.SummaryWriter(str(root / name), auto_flush=False)
        rng = np.random.default_rng(31)
        order = rng.permutation(len(xt))
        for step in range(steps_total):
            start = (step * 500) % len(xt)
            if start == 0:
                order = rng.permutation(len(xt))
            idx = order[start : start + 500]
            params, opt_state, loss = step_fn(params, opt_state, xt[idx], yt[idx])
            writer.scalar("train/loss", float(loss), step)
            if step % 20 == 0:
                writer.scalar("eval/loss", float(loss_fn(params, xv, yv)), step)
        writer.close()
        series = read_run(root / name)
        if name == "healthy":
            loss_story(
                log, name, name, "healthy run, Adam 1e-3", "eval/loss", train_tag="train/loss"
            )
            log.negatives.append(
                Negative(
                    name,
                    ["train/loss", "eval/loss"],
                    ["divergence", "nonfinite", "oscillation"],
                    "healthy run",
                )
            )
        else:
            for tag in ("train/loss", "eval/loss"):
                s, _ = series[tag]
                log.labels.append(
                    Label(
                        name,
                        "oscillation",
                        [tag],
                        0,
                        int(s[-1]),
                        f"SGDR (plain SGD, tanh MLP): the LR restarts to 15 every {period} steps "
                        "(10-step "
                        "warm-up) and anneals to 0.05; the "
                        "loss jumps at each restart and recovers",
                        onset_range=[0, period],
                        period=period,
                    )
                )
    return log


SCENARIOS: dict[str, Callable[[Path, bool], Logdir]] = {"flax": flax_runs}
