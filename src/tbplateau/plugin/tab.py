"""The TensorBoard plugin behind the "Plateaus" tab and its HTTP routes.

Routes, under ``data/plugin/tbplateau/`` (every response goes through TensorBoard's
``http_util.Respond``: exact MIME type, ``X-Content-Type-Options: nosniff``, no
caching, gzip when accepted):

- ``GET index.js``, ``GET style.css``: the page (one vanilla ES module, no build step);
- ``GET report[?since=VERSION]``: the report document of
  :mod:`tbplateau.plugin.document` with a ``status`` object (``loading`` with its
  progress until the first analysis is done); with ``since`` equal to the current
  version, only ``{"unchanged": true}`` and the status;
- ``GET series?run=RUN&tag=TAG[&buckets=N]``: one series' points for a chart,
  thinned for display (:mod:`tbplateau.plugin.points`). ``RUN`` and ``TAG`` are looked
  up as keys among the series read; they never become a path. A missing or malformed
  parameter is a 400, an unknown series a 404;
- ``POST reload``: refresh now; answers the scan number to wait for.

The tab is active when TensorBoard has scalar data (``data_plugin_names``);
``is_active`` itself is a constant, since TensorBoard calls it on every listing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

from tensorboard.backend import http_util
from tensorboard.plugins import base_plugin
from werkzeug import Request, Response

from tbplateau.plugin.document import TAB_SCHEMA
from tbplateau.plugin.loader import PLUGIN_NAME
from tbplateau.plugin.points import MAX_BUCKETS, MIN_BUCKETS, series_points
from tbplateau.plugin.sources import LogdirSource, ProviderSource, Source, readable_logdir
from tbplateau.plugin.worker import Analyst

if TYPE_CHECKING:  # pragma: no cover
    from _typeshed.wsgi import WSGIApplication

__all__ = ["MAX_KEY", "PlateauPlugin", "make_plugin", "source_for"]

MAX_KEY = 4096
"""Longest run or tag name accepted in a request (longer ones are a 400)."""

DEFAULT_BUCKETS = 600
_JSON = "application/json"
_STATIC = {
    "index.js": "text/javascript",
    "style.css": "text/css",
}

Handler = Callable[[Request], Response]
"""A route's function; :meth:`PlateauPlugin.get_plugin_apps` makes each a WSGI app."""


def _flag(context: Any, name: str, default: Any) -> Any:
    return getattr(context.flags, name, default) if context.flags is not None else default


def source_for(context: Any) -> Source | None:
    """Where the tab reads from: the logdir when there is one (even one that does not
    exist yet: TensorBoard waits for it, and so does the tab), else the data provider
    (a sample), else nothing."""
    logdir = context.logdir or ""
    goals = tuple(_flag(context, "tbplateau_goal", None) or ())
    readable = readable_logdir(logdir)
    if readable is not None:
        return LogdirSource(readable, goals=goals)
    if logdir and "://" not in logdir:
        return LogdirSource(os.path.expanduser(logdir), goals=goals)
    if context.data_provider is not None:
        label = _flag(context, "logdir_spec", "") or logdir or "data provider"
        return ProviderSource(context.data_provider, label=label, goals=goals)
    return None


def make_plugin(context: Any) -> PlateauPlugin | None:
    """The plugin, or ``None`` when there is nothing to read."""
    source = source_for(context)
    if source is None:
        return None
    interval = float(_flag(context, "reload_interval", 5.0))
    return PlateauPlugin(context, Analyst(source, interval=interval))


def _respond(request: Request, body: str | bytes, content_type: str, code: int = 200) -> Response:
    return http_util.Respond(request, body, content_type, code=code)  # type: ignore[no-any-return]


def _error(request: Request, code: int, message: str) -> Response:
    """An error as JSON; ``message`` is ours, never an echo of the request."""
    return _respond(request, json.dumps({"error": message}), _JSON, code=code)


def _method(request: Request, *allowed: str) -> Response | None:
    if request.method in allowed or (request.method == "HEAD" and "GET" in allowed):
        return None
    response = _error(request, 405, f"use {' or '.join(allowed)}")
    response.headers["Allow"] = ", ".join(allowed)
    return response


def _key(request: Request, name: str) -> str | Response:
    value = request.args.get(name)
    if value is None:
        return _error(request, 400, f"the {name} parameter is required")
    if len(value) > MAX_KEY:
        return _error(request, 400, f"the {name} parameter is longer than {MAX_KEY} characters")
    if "\x00" in value:
        return _error(request, 400, f"the {name} parameter holds a NUL character")
    return value


class PlateauPlugin(base_plugin.TBPlugin):  # type: ignore[misc]
    """The "Plateaus" tab (see the module docstring). It owns one :class:`Analyst`,
    started here and stopped by :meth:`close`."""

    plugin_name = PLUGIN_NAME

    def __init__(self, context: Any, analyst: Analyst) -> None:
        self.analyst = analyst
        folder = resources.files("tbplateau.plugin").joinpath("static")
        self._static = {name: folder.joinpath(name).read_bytes() for name in _STATIC}
        analyst.start()

    def close(self, timeout: float = 30.0) -> bool:
        """Stop the background thread (see :meth:`Analyst.close`)."""
        return self.analyst.close(timeout)

    def is_active(self) -> bool:
        return False  # active through data_plugin_names; this is called on every listing

    def data_plugin_names(self) -> tuple[str, ...]:
        return ("scalars",)

    def frontend_metadata(self) -> Any:
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="Plateaus")

    def get_plugin_apps(self) -> dict[str, WSGIApplication]:
        routes: dict[str, Handler] = {
            "/index.js": self._serve_static("index.js"),
            "/style.css": self._serve_static("style.css"),
            "/report": self._serve_report,
            "/series": self._serve_series,
            "/reload": self._serve_reload,
        }
        return {path: Request.application(handler) for path, handler in routes.items()}

    def _serve_static(self, name: str) -> Handler:
        body, content_type = self._static[name], _STATIC[name]

        def serve(request: Request) -> Response:
            return _method(request, "GET") or _respond(request, body, content_type)

        return serve

    def _serve_report(self, request: Request) -> Response:
        bad = _method(request, "GET")
        if bad is not None:
            return bad
        published = self.analyst.published()
        status = json.dumps(self.analyst.status(), allow_nan=False)
        if published is None:
            body = f'{{"schema":"{TAB_SCHEMA}","version":null,"status":{status}}}'
        elif request.args.get("since") == str(published.version):
            body = (
                f'{{"schema":"{TAB_SCHEMA}","version":{published.version},'
                f'"unchanged":true,"status":{status}}}'
            )
        else:
            body = f'{{"status":{status},{published.body[1:]}'
        return _respond(request, body, _JSON)

    def _serve_series(self, request: Request) -> Response:
        bad = _method(request, "GET")
        if bad is not None:
            return bad
        run = _key(request, "run")
        if not isinstance(run, str):
            return run
        tag = _key(request, "tag")
        if not isinstance(tag, str):
            return tag
        raw = request.args.get("buckets", str(DEFAULT_BUCKETS))
        ok = len(raw) <= 5 and raw.isascii() and raw.isdigit()
        if not (ok and MIN_BUCKETS <= int(raw) <= MAX_BUCKETS):
            return _error(
                request, 400, f"buckets must be an integer from {MIN_BUCKETS} to {MAX_BUCKETS}"
            )
        published = self.analyst.published()
        if published is None:
            return _error(request, 404, "nothing is loaded yet")
        series = published.curves.get((run, tag))
        if series is None:
            return _error(request, 404, "no such run and tag")
        doc = {"version": published.version, **series_points(series, buckets=int(raw))}
        return _respond(request, json.dumps(doc, allow_nan=False), _JSON)

    def _serve_reload(self, request: Request) -> Response:
        bad = _method(request, "POST")
        if bad is not None:
            return bad
        return _respond(request, json.dumps({"scan": self.analyst.request_refresh()}), _JSON)
