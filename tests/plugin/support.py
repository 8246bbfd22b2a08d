"""What the tab's tests share: TensorBoard apps in-process and as processes, Chromium.

- :func:`make_app`: TensorBoard's own WSGI app with the tab (and, on request, the
  data provider of the Python loader), for werkzeug's test client;
- :class:`TensorBoardProcess`: a real ``tensorboard`` on 127.0.0.1 with ``--port 0``,
  stopped by its pid;
- :func:`chrome`: Debian's Chromium through its ChromeDriver (nothing is downloaded);
- :func:`hostile_logdir`: runs and tags named with HTML, JavaScript and terminal escapes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from werkzeug.test import Client

from tbplateau.plugin.loader import PlateauLoader
from tbplateau.plugin.tab import PlateauPlugin
from tests.helpers import scalar, write_events

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
REALWORLD = ROOT.parent / "shared" / "realworld"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PREFIX = "/data/plugin/tbplateau"

HOSTILE_RUN = '<img src=x onerror="document.title=1">\x1b]0;pwned\x07'
HOSTILE_TAG = "<script>document.title='2'</script>\x1b[2J\u202e/loss"


def fixture_logdirs() -> list[Path]:
    """Every fixture logdir shipped in ``fixtures/``."""
    return sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def realworld_logdirs() -> list[Path]:
    """Every project logdir of ``../shared/realworld`` (empty when it is absent)."""
    if not REALWORLD.is_dir():
        return []
    return sorted(p for p in REALWORLD.iterdir() if p.is_dir())


def hostile_logdir(root: Path) -> Path:
    """A logdir whose run and tag names are HTML, JavaScript and terminal escapes; the
    tag plateaus so that it has a finding (and advice quoting its name)."""
    steps = range(200)
    rng = np.random.default_rng(7)
    values = [
        float(np.exp(-s / 20) if s < 80 else np.exp(-4.0)) * float(np.exp(rng.normal(0, 0.02)))
        for s in steps
    ]
    write_events(
        root / HOSTILE_RUN / "events.out.tfevents.1.host",
        [scalar(HOSTILE_TAG, s, v) for s, v in zip(steps, values, strict=True)],
    )
    return root


# -- in-process ---------------------------------------------------------------------


class CapturingLoader(PlateauLoader):
    """The real loader, remembering the plugin it made (so tests can stop it)."""

    def __init__(self) -> None:
        self.plugins: list[Any] = []

    def load(self, context: Any) -> Any:
        plugin = super().load(context)
        if plugin is not None:
            self.plugins.append(plugin)
        return plugin


@dataclass
class App:
    client: Client
    plugin: PlateauPlugin

    def get(self, route: str, **params: str) -> Any:
        return self.client.get(PREFIX + route, query_string=params)

    def report(self, **params: str) -> dict[str, Any]:
        response = self.get("/report", **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        doc: dict[str, Any] = json.loads(response.get_data(as_text=True))
        return doc

    def wait(self, timeout: float = 60.0, *, advised: bool = True) -> dict[str, Any]:
        """The document once the first analysis (and, with ``advised``, all the
        advice) is done."""
        deadline = time.monotonic() + timeout
        while True:
            doc = self.report()
            done = doc["status"]["state"] == "ready" and doc.get("report") is not None
            done = done and not doc["status"]["scanning"]
            if done and (not advised or doc["advice_pending"] == 0):
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"the tab was not ready in {timeout} s: {doc['status']}")
            time.sleep(0.05)


def tensorboard_flags(argv: Sequence[str]) -> Any:
    from tensorboard import program
    from tensorboard.plugins.core import core_plugin

    tb = program.TensorBoard(
        plugins=[core_plugin.CorePluginLoader(), PlateauLoader()],
        assets_zip_provider=lambda: None,
    )
    tb.configure(argv=["tensorboard", *argv])
    return tb.flags


@contextlib.contextmanager
def make_app(
    logdir: Path | str | None,
    *,
    argv: Sequence[str] = (),
    provider: bool = False,
    loaders: Sequence[Any] | None = None,
) -> Iterator[App]:
    """TensorBoard's WSGI app with the tab on ``logdir`` (``--reload_interval 0``: the
    tab refreshes when asked); the plugin is stopped on exit."""
    from tensorboard.backend import application
    from tensorboard.backend.event_processing import data_ingester

    args = ["--reload_interval", "0", "--reload_task", "blocking", *argv]
    if logdir is not None:
        args = ["--logdir", str(logdir), *args]
    flags = tensorboard_flags(args)
    data_provider, multiplexer = None, None
    if provider:
        ingester = data_ingester.LocalDataIngester(flags)
        ingester.start()
        data_provider, multiplexer = ingester.data_provider, ingester.deprecated_multiplexer
    loader = CapturingLoader()
    app = application.TensorBoardWSGIApp(
        flags, [*(loaders or []), loader], data_provider, lambda: None, multiplexer
    )
    if not loader.plugins:
        raise AssertionError("the tab's loader made no plugin")
    plugin = loader.plugins[0]
    try:
        yield App(Client(app), plugin)
    finally:
        assert plugin.close(60), "the tab's thread did not stop"


# -- a real tensorboard process -----------------------------------------------------


def tensorboard_executable() -> str:
    exe = Path(sys.executable).parent / "tensorboard"
    found = str(exe) if exe.exists() else shutil.which("tensorboard")
    if found is None:  # pragma: no cover - the dev extra installs it
        raise AssertionError("tensorboard is not installed: pip install -e '.[dev]'")
    return found


class TensorBoardProcess:
    """``tensorboard --host 127.0.0.1 --port 0 ARGS``; :meth:`stop` ends it by its pid.

    It runs in its own session, so that the RustBoard data server it starts can be
    ended with it (by that session's id, which is the pid of the process we started).
    """

    def __init__(self, args: Sequence[str], log: Path, *, timeout: float = 60.0) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [tensorboard_executable(), "--host", "127.0.0.1", "--port", "0", *args],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.url = self._wait_for_url(timeout)

    def _wait_for_url(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(rb"(http://127\.0\.0\.1:\d+/\S*) \(Press CTRL", self.log.read_bytes())
            if found:
                return found.group(1).decode()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"tensorboard did not start:\n{self.log.read_text(errors='replace')}")

    def get(self, path: str, *, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path.lstrip("/"))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def report(self, timeout: float = 120.0, *, advised: bool = True) -> dict[str, Any]:
        """The tab's document once the first analysis (and, with ``advised``, all the
        advice) is done."""
        deadline = time.monotonic() + timeout
        while True:
            code, _, body = self.get("data/plugin/tbplateau/report")
            assert code == 200, body
            doc: dict[str, Any] = json.loads(body)
            ready = doc["status"]["state"] == "ready" and "report" in doc
            if ready and (not advised or doc["advice_pending"] == 0):
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"the tab was not ready in {timeout} s: {doc['status']}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        with contextlib.suppress(ProcessLookupError):  # a data server left in its session
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log_file.close()


@contextlib.contextmanager
def tensorboard(args: Sequence[str], log: Path) -> Iterator[TensorBoardProcess]:
    tb = TensorBoardProcess(args, log)
    try:
        yield tb
    finally:
        tb.stop()


# -- Chromium -------------------------------------------------------------------------

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def have_chromium() -> bool:
    return os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)


@contextlib.contextmanager
def chrome(profile: Path) -> Iterator[Any]:
    """A headless Chromium driven by Debian's ChromeDriver, console logs kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """``check()``'s first truthy value, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
        except Exception:  # a frame or element not there yet
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)
