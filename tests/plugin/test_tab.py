"""The tab's routes, in-process, through TensorBoard's own WSGI app and werkzeug's test client."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tbplateau.analysis import analyze
from tbplateau.plugin import tab
from tbplateau.plugin.document import TAB_SCHEMA
from tbplateau.plugin.sources import LogdirSource
from tests.helpers import curve, frame, write_events
from tests.plugin.support import (
    HOSTILE_RUN,
    HOSTILE_TAG,
    PREFIX,
    fixture_logdirs,
    hostile_logdir,
    make_app,
)

FIXTURES = fixture_logdirs()


@pytest.fixture(scope="module")
def sample_app() -> Any:
    with make_app(Path("fixtures/sample").resolve()) as app:
        app.wait()
        yield app


@pytest.mark.parametrize("logdir", FIXTURES, ids=lambda p: p.name)
def test_report_route_equals_analyze(logdir: Path) -> None:
    with make_app(logdir) as app:
        doc = app.wait(advised=False)
    assert doc["schema"] == TAB_SCHEMA
    assert doc["source"] == "logdir"
    assert doc["sampled"] is False
    assert doc["report"] == analyze(logdir).to_dict()
    # one entry per run, one row per series, in the report's order
    assert [e["run"] for e in doc["runs"]] == [r["run"] for r in doc["report"]["runs"]]
    for entry, run in zip(doc["runs"], doc["report"]["runs"], strict=True):
        assert [r["tag"] for r in entry["rows"]] == [s["tag"] for s in run["series"]]


def test_plugin_listing_shows_the_tab_enabled_with_its_module() -> None:
    with make_app(Path("fixtures/sample").resolve(), provider=True) as app:
        response = app.client.get("/data/plugins_listing")
        listing = json.loads(response.get_data(as_text=True))
    entry = listing["tbplateau"]
    assert entry["enabled"] is True
    assert entry["tab_name"] == "Plateaus"
    assert entry["loading_mechanism"] == {
        "type": "IFRAME",
        "module_path": f"{PREFIX}/index.js",
    }


def test_is_active_is_constant_and_activation_comes_from_scalars(sample_app: Any) -> None:
    assert sample_app.plugin.is_active() is False
    assert tuple(sample_app.plugin.data_plugin_names()) == ("scalars",)


@pytest.mark.parametrize(
    ("route", "mime"),
    [
        ("/index.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/report", "application/json"),
        ("/series?run=keras/train&tag=epoch_loss", "application/json"),
    ],
)
def test_mime_types_are_exact(sample_app: Any, route: str, mime: str) -> None:
    response = sample_app.client.get(PREFIX + route)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == mime
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_static_files_are_the_packaged_ones(sample_app: Any) -> None:
    body = sample_app.client.get(PREFIX + "/index.js").get_data(as_text=True)
    assert "export async function render()" in body
    assert "innerHTML" not in body
    assert "insertAdjacentHTML" not in body
    assert "eval(" not in body


def test_report_since_the_current_version_is_short(sample_app: Any) -> None:
    doc = sample_app.report()
    again = sample_app.report(since=str(doc["version"]))
    assert again["unchanged"] is True
    assert again["version"] == doc["version"]
    assert "report" not in again
    older = sample_app.report(since=str(doc["version"] - 1))
    assert older["report"] == doc["report"]


def test_series_points(sample_app: Any) -> None:
    response = sample_app.get("/series", run="torch_lr_too_high", tag="Loss/train", buckets="16")
    points = json.loads(response.get_data(as_text=True))
    assert points["points"] == 200
    assert points["shown"] <= 2 * 16 + 2
    assert None in points["values"]  # NaN from step 900 on
    assert points["nonfinite"][0][1] == "nan"


HOSTILE_KEYS = [
    "../x",
    "%2e%2e/",
    "..%2f..%2fetc%2fpasswd",
    "..\\..\\x",
    "%5c..%5cx",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "keras/train/../train",
    "keras/train/",
    "./keras/train",
    "a" * 10_000,
]


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=lambda k: k[:24])
@pytest.mark.parametrize("field", ["run", "tag"])
def test_hostile_keys_are_404_or_400(sample_app: Any, key: str, field: str) -> None:
    params = {"run": "keras/train", "tag": "epoch_loss", field: key}
    response = sample_app.get("/series", **params)
    assert response.status_code in (400, 404), response.get_data(as_text=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Type"] == "application/json"
    assert key not in response.get_data(as_text=True)  # never echoed


@pytest.mark.parametrize(
    "query",
    [
        "run=keras%2Ftrain%00&tag=epoch_loss",
        "run=keras/train&tag=epoch_loss%00.png",
        "run=%2e%2e%2f%2e%2e%2fetc%2fpasswd&tag=epoch_loss",
        "run=keras%5ctrain&tag=epoch_loss",
        "run=keras/train",
        "tag=epoch_loss",
        "run=keras/train&tag=epoch_loss&buckets=-1",
        "run=keras/train&tag=epoch_loss&buckets=" + "9" * 10_000,
        "run=keras/train&tag=epoch_loss&buckets=1e3",
        "run=%ff%fe&tag=%c0%ae%c0%ae",
    ],
)
def test_malformed_series_queries(sample_app: Any, query: str) -> None:
    response = sample_app.client.get(f"{PREFIX}/series?{query}")
    assert response.status_code in (400, 404)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "error" in json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize(
    "path",
    [
        "/../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2findex.js",
        "/index.js%00.css",
        "/%5c..%5cindex.js",
        "//etc/passwd",
        "/" + "x" * 10_000,
        "/report/../index.js",
    ],
)
def test_unknown_paths_are_404_and_serve_no_file(sample_app: Any, path: str) -> None:
    response = sample_app.client.get(PREFIX + path)
    assert response.status_code in (400, 404)
    assert b"root:" not in response.get_data()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_wrong_methods_are_405(sample_app: Any) -> None:
    for route in ("/report", "/series", "/index.js"):
        response = sample_app.client.post(PREFIX + route)
        assert response.status_code == 405
        assert response.headers["Allow"] == "GET"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = sample_app.client.get(PREFIX + "/reload")
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"


def test_hostile_names_are_data(tmp_path: Path) -> None:
    logdir = hostile_logdir(tmp_path)
    with make_app(logdir) as app:
        doc = app.wait()
        response = app.get("/series", run=HOSTILE_RUN, tag=HOSTILE_TAG)
    assert doc["report"] == analyze(logdir).to_dict()
    (entry,) = doc["runs"]
    assert entry["run"] == HOSTILE_RUN
    assert entry["rows"][0]["tag"] == HOSTILE_TAG
    assert entry["rows"][0]["findings"], "the hostile fixture should plateau"
    assert response.status_code == 200
    assert json.loads(response.get_data(as_text=True))["tag"] == HOSTILE_TAG


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def test_reload_reanalyses_only_what_grew(tmp_path: Path) -> None:
    a = write_events(tmp_path / "a" / "events.out.tfevents.1", curve("loss", range(50)))
    write_events(tmp_path / "b" / "events.out.tfevents.1", curve("loss", range(50), seed=2))
    with make_app(tmp_path) as app:
        first = app.wait()
        entries = {e["run"]: e for e in first["runs"]}
        _append(a, frame(curve("loss", range(50, 90), seed=3)))
        response = app.client.post(PREFIX + "/reload")
        target = json.loads(response.get_data(as_text=True))["scan"]
        assert target == first["status"]["scan"] + 1
        while app.report()["status"]["scan"] < target:
            time.sleep(0.01)
        grown = app.wait()
    assert grown["version"] > first["version"]
    assert grown["report"] == analyze(tmp_path).to_dict()
    assert grown["status"]["changed_at"] >= first["status"]["changed_at"]
    last = app.plugin.analyst.last_update
    assert last is not None
    assert last.changed == ("a",)
    after = {e["run"]: e for e in grown["runs"]}
    assert after["b"] == entries["b"]
    (a_run,) = [r for r in grown["report"]["runs"] if r["run"] == "a"]
    assert a_run["series"][0]["points"] == 90


def test_first_request_answers_loading_with_progress(tmp_path: Path) -> None:
    """A request never waits: before the first analysis the document says ``loading``."""
    write_events(tmp_path / "a" / "events.out.tfevents.1", curve("loss", range(50)))
    gate = threading.Event()
    real = LogdirSource.refresh

    def slow(self: Any, progress: Any) -> Any:
        progress("reading", 0, 1)
        gate.wait(30)
        return real(self, progress)

    mp = pytest.MonkeyPatch()
    mp.setattr(LogdirSource, "refresh", slow)
    try:
        with make_app(tmp_path) as app:
            early = app.report()
            gate.set()
            done = app.wait()
    finally:
        mp.undo()
    assert early["status"]["state"] == "loading"
    assert early["status"]["progress"] == {"phase": "reading", "done": 0, "total": 1}
    assert early["version"] is None
    assert "report" not in early
    assert done["report"] == analyze(tmp_path).to_dict()


def test_missing_logdir_waits_and_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "not-yet"
    with make_app(missing) as app:
        doc = app.report()
        while doc["status"]["message"] is None:
            doc = app.report()
        assert doc["status"]["state"] == "loading"
        assert str(missing) in doc["status"]["message"]
        write_events(missing / "run" / "events.out.tfevents.1", curve("loss", range(30)))
        app.client.post(PREFIX + "/reload")
        doc = app.wait()
    assert doc["report"] == analyze(missing).to_dict()


def test_without_a_logdir_the_data_provider_is_used_and_the_page_says_sampled() -> None:
    sample = Path("fixtures/sample").resolve()
    spec = f"k:{sample / 'keras'}"
    with make_app(None, argv=["--logdir_spec", spec], provider=True) as app:
        doc = app.wait()
    assert doc["source"] == "data_provider"
    assert doc["sampled"] is True
    runs = {r["run"]: r for r in doc["report"]["runs"]}
    assert set(runs) == {"k/train", "k/validation"}
    # the sample holds every point of this small logdir, so the findings agree
    ours = {r.run: r for r in analyze(sample / "keras").runs}
    assert [f["kind"] for s in runs["k/validation"]["series"] for f in s["findings"]] == [
        f.kind.value for s in ours["validation"].series for f in s.findings
    ]


def test_tensorboard_starts_when_the_plugin_fails_to_load(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(context: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(tab, "make_plugin", broken)
    from tensorboard.backend import application

    from tests.plugin.support import CapturingLoader, tensorboard_flags

    flags = tensorboard_flags(["--logdir", "fixtures/sample"])
    loader = CapturingLoader()
    app = application.TensorBoardWSGIApp(flags, [loader], None, lambda: None, None)
    from werkzeug.test import Client

    listing = json.loads(Client(app).get("/data/plugins_listing").get_data(as_text=True))
    assert "tbplateau" not in listing
    assert loader.plugins == []


def _python(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_entry_point_module_imports_only_base_plugin() -> None:
    out = _python(
        "import sys\n"
        "before = set(sys.modules)\n"
        "import tbplateau\n"
        "base = set(sys.modules)\n"
        "import tbplateau.plugin.loader\n"
        "print(sorted(set(sys.modules) - base))\n"
    )
    added = set(ast.literal_eval(out))
    assert "tensorboard.plugins.base_plugin" in added
    assert not any(m.startswith(("werkzeug", "tbplateau.plugin.tab", "numpy")) for m in added)
    assert {m for m in added if m.startswith("tbplateau")} == {
        "tbplateau.plugin",
        "tbplateau.plugin.loader",
    }


def test_loader_gives_no_plugin_when_a_part_is_missing() -> None:
    out = _python(
        "import sys\n"
        "sys.modules['werkzeug'] = None\n"
        "from tbplateau.plugin.loader import PlateauLoader\n"
        "from tensorboard.plugins import base_plugin\n"
        "ctx = base_plugin.TBContext(logdir='fixtures/sample')\n"
        "print(PlateauLoader().load(ctx))\n"
    )
    assert out.strip() == "None"


def test_entry_point_is_registered() -> None:
    from importlib import metadata

    (ep,) = [e for e in metadata.entry_points(group="tensorboard_plugins") if e.name == "tbplateau"]
    assert ep.value == "tbplateau.plugin.loader:PlateauLoader"


def test_no_data_no_plugin() -> None:
    from tensorboard.plugins import base_plugin

    assert tab.make_plugin(base_plugin.TBContext()) is None


def test_goal_flag_matches_report_goal() -> None:
    sample = Path("fixtures/sample").resolve()
    goals = ["epoch_loss=none", "Loss/*=max"]
    argv = [x for g in goals for x in ("--tbplateau_goal", g)]
    with make_app(sample, argv=argv) as app:
        doc = app.wait(advised=False)
    assert doc["report"] == analyze(sample, goals=goals).to_dict()
    assert doc["report"] != analyze(sample).to_dict()


def test_a_bad_goal_flag_is_a_flags_error() -> None:
    from tensorboard.plugins import base_plugin

    from tests.plugin.support import tensorboard_flags

    with pytest.raises(base_plugin.FlagsError, match="--tbplateau_goal"):
        tensorboard_flags(["--logdir", "fixtures/sample", "--tbplateau_goal", "loss"])
