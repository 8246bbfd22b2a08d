"""A real ``tensorboard`` process with the tab: both loaders, with and without a path prefix.

Each process binds 127.0.0.1 with ``--port 0`` and is stopped by its pid. The report
route must equal ``tbplateau.analyze`` on the same logdir: every fixture at once, and
every real-world logdir of ``../shared/realworld`` at once (the tab reads the logdir
itself, whichever loader TensorBoard uses).
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tbplateau.analysis import analyze
from tests.plugin.support import FIXTURES, REALWORLD, TensorBoardProcess, tensorboard

pytestmark = pytest.mark.slow

LOADERS = ["false", "true"]


def _raw_get(tb: TensorBoardProcess, path: str) -> int:
    """GET ``path`` exactly as written (no client-side normalisation of ``..``)."""
    parts = urlsplit(tb.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", parts.path.rstrip("/") + path)
        response = conn.getresponse()
        body = response.read()
        assert b"root:" not in body
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        return response.status
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("load_fast", "prefix"),
    [("false", ""), ("true", ""), ("true", "/tb/x")],
    ids=["python-loader", "rustboard", "rustboard-path-prefix"],
)
def test_tab_in_a_real_tensorboard(tmp_path: Path, load_fast: str, prefix: str) -> None:
    args = ["--logdir", str(FIXTURES), f"--load_fast={load_fast}"]
    if prefix:
        args.append(f"--path_prefix={prefix}")
    with tensorboard(args, tmp_path / "tb.log") as tb:
        if prefix:
            assert urlsplit(tb.url).path == prefix + "/"
        doc = tb.report(advised=False)
        code, _, body = tb.get("data/plugins_listing")
        listing = json.loads(body)
        code_js, headers_js, _ = tb.get("data/plugin/tbplateau/index.js")
        code_pt, headers_pt, points = tb.get(
            "data/plugin/tbplateau/series?run=sample%2Ftorch_lr_too_high&tag=Loss%2Ftrain"
        )
        code_entry, headers_entry, entry = tb.get("data/plugin_entry.html?name=tbplateau")
        hostile = [
            _raw_get(tb, "/data/plugin/tbplateau/../../../../etc/passwd"),
            _raw_get(tb, "/data/plugin/tbplateau/%2e%2e/%2e%2e/etc/passwd"),
            _raw_get(tb, "/data/plugin/tbplateau/series?run=..%2f..%2fetc&tag=passwd"),
            _raw_get(tb, "/data/plugin/tbplateau/series?run=%2fetc%2fpasswd&tag=x%00"),
        ]
        log = tb.log.read_text(errors="replace")
    assert code == 200
    assert listing["tbplateau"]["enabled"] is True
    module = listing["tbplateau"]["loading_mechanism"]["module_path"]
    assert module == f"{prefix}/data/plugin/tbplateau/index.js"
    assert doc["report"] == analyze(FIXTURES).to_dict()
    assert doc["sampled"] is False
    assert (code_js, headers_js["Content-Type"]) == (200, "text/javascript; charset=utf-8")
    assert (code_pt, headers_pt["Content-Type"]) == (200, "application/json")
    assert json.loads(points)["points"] == 200
    # TensorBoard's frame for the tab: its CSP allows our module from 'self' only
    assert code_entry == 200
    assert "script-src 'self'" in headers_entry["Content-Security-Policy"]
    assert b"./index.js" in entry
    assert all(status in (400, 404) for status in hostile), hostile
    assert "Failed to load plugin" not in log
    assert "Traceback" not in log


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="../shared/realworld is absent")
@pytest.mark.parametrize("load_fast", LOADERS)
def test_realworld_logdirs(tmp_path: Path, load_fast: str) -> None:
    """Every real-world logdir at once (each project is a subtree of runs)."""
    args = ["--logdir", str(REALWORLD), f"--load_fast={load_fast}"]
    with tensorboard(args, tmp_path / "tb.log") as tb:
        doc = tb.report(timeout=300, advised=False)
        log = tb.log.read_text(errors="replace")
    assert doc["report"] == analyze(REALWORLD).to_dict()
    assert len(doc["runs"]) == len(doc["report"]["runs"]) > 0
    assert "Traceback" not in log
