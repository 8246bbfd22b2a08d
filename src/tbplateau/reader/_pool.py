"""Worker processes that die with their parent.

The reader scans large logdirs in a process pool. If the parent is killed (SIGKILL,
the OOM killer), the executor's own shutdown never runs, and a worker would go on
scanning, or wait on its task queue forever. :func:`die_with_parent` is the pool's
``initializer``; in each worker it

* asks Linux to send SIGKILL when the parent exits (``prctl(PR_SET_PDEATHSIG)``);
* everywhere, starts a daemon thread that waits on the parent's sentinel (the pipe
  that ``multiprocessing`` closes when the parent dies) and checks the parent pid,
  and ends the worker at once when either says the parent is gone.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1
_POLL_SECONDS = 1.0


def _parent_gone(parent_pid: int) -> bool:
    return os.getppid() != parent_pid


def _watch(parent_pid: int, sentinel: object | None) -> None:
    while True:
        if sentinel is not None:
            if multiprocessing.connection.wait([sentinel], timeout=_POLL_SECONDS):  # type: ignore[list-item]
                os._exit(1)
        else:  # pragma: no cover - every start method sets a parent sentinel
            threading.Event().wait(_POLL_SECONDS)
        if _parent_gone(parent_pid):
            os._exit(1)


def _linux_death_signal() -> None:
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux CI
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread remains
        pass


def die_with_parent(parent_pid: int) -> None:
    """Make this (worker) process exit as soon as process ``parent_pid`` is gone."""
    _linux_death_signal()
    if _parent_gone(parent_pid):  # died before the death signal was armed
        os._exit(1)
    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None else None
    threading.Thread(
        target=_watch, args=(parent_pid, sentinel), name="tbplateau-parent-watch", daemon=True
    ).start()
