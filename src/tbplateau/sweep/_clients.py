"""The clients a sweep can own: a local process pool, and Dask clusters.

:class:`LocalPool` is a :class:`concurrent.futures.Executor` whose worker processes
die with their parent (the reader's ``die_with_parent``) and which starts a fresh pool
when a worker died and broke the old one, so one crashed task does not end a sweep.

:func:`dask_client` opens a Dask ``distributed.Client`` for ``local``, ``local:N``
(a ``LocalCluster`` of N worker processes on 127.0.0.1, without dashboard: Dask's
default dashboard listens on every interface) or a scheduler address
(``tcp://host:8786``, ``tls://...``). Dask is imported only here, only when asked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Any, ParamSpec, TypeVar

from tbplateau.errors import InvalidParameterError, MissingExtraError
from tbplateau.reader._pool import die_with_parent

__all__ = ["LocalPool", "dask_client", "default_workers"]

P = ParamSpec("P")
T = TypeVar("T")


def default_workers() -> int:
    """The CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _context() -> str:
    # fork is cheapest, but unsafe once the process has threads
    if os.name == "posix" and threading.active_count() == 1:
        return "fork"
    return "spawn"


class LocalPool(Executor):
    """A process pool that replaces itself when a worker dies; workers die with us."""

    def __init__(self, workers: int | None = None) -> None:
        n = default_workers() if workers is None else workers
        if n < 1:
            raise InvalidParameterError(f"workers must be at least 1, got {n}")
        self._max_workers = n
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self.restarts = 0

    def _fresh(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=get_context(_context()),
            initializer=die_with_parent,
            initargs=(os.getpid(),),
        )

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        with self._lock:
            if self._pool is None:
                self._pool = self._fresh()
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:  # a worker died: its tasks failed; start afresh
                self._pool.shutdown(wait=False, cancel_futures=True)
                self.restarts += 1
                self._pool = self._fresh()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
                self._pool = None


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise MissingExtraError("--dask needs Dask: pip install 'tbplateau[dask]'") from exc
    return distributed


def parse_dask_address(address: str) -> int | str:
    """``local`` or ``local:N`` as a worker count, or a scheduler address as given.

    >>> parse_dask_address("local:8"), parse_dask_address("tcp://10.0.0.5:8786")
    (8, 'tcp://10.0.0.5:8786')
    """
    if address == "local":
        return default_workers()
    if address.startswith("local:"):
        count = address[len("local:") :]
        if not count.isdigit() or int(count) < 1:
            raise InvalidParameterError(
                f"--dask local:N needs a positive number of workers, got {address!r}"
            )
        return int(count)
    if "://" in address and address.split("://", 1)[1]:
        return address
    raise InvalidParameterError(
        f"--dask must be local, local:N or a scheduler address like tcp://host:8786, "
        f"got {address!r}"
    )


@contextmanager
def dask_client(address: str) -> Iterator[Any]:
    """A ``distributed.Client`` for ``address`` (see :func:`parse_dask_address`), closed after.

    A local cluster is started here and stopped after; a remote one is only
    connected to. Its workers read with their own credentials (their environment).
    """
    target = parse_dask_address(address)
    distributed = _import_distributed()
    if isinstance(target, int):
        cluster = distributed.LocalCluster(
            n_workers=target,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # no dashboard; its HTTP server (health, metrics) on a free loopback port
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        )
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client = distributed.Client(target, timeout="30s")
    except OSError as exc:
        raise InvalidParameterError(f"cannot reach the Dask scheduler {target}: {exc}") from exc
    with client:
        yield client
