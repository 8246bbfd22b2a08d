"""A local S3 (moto) on 127.0.0.1 that counts the requests it serves, for the sweep tests.

The server runs in a thread of the test process; worker processes reach it over
127.0.0.1 with the endpoint and dummy credentials set in the environment
(``AWS_ENDPOINT_URL``), as real workers would get theirs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

SECRET = "sweep-test-secret-4f1d"
"""The dummy secret key: it must never appear in a task."""


@dataclass
class Requests:
    """``(method, path, query)`` of every request served, in order."""

    seen: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path: str, query: str) -> None:
        with self.lock:
            self.seen.append((method, path, query))

    def clear(self) -> None:
        with self.lock:
            self.seen.clear()

    def lists(self) -> int:
        """Object listings (ListObjects v1 and v2), one per page."""
        return sum(1 for m, p, q in self.seen if m == "GET" and _is_listing(p, q))

    def gets(self) -> int:
        """Reads of object contents (GET of a key, ranged or not)."""
        return sum(1 for m, p, q in self.seen if m == "GET" and not _is_listing(p, q))

    def heads(self) -> int:
        return sum(1 for m, _, _ in self.seen if m == "HEAD")


def _is_listing(path: str, query: str) -> bool:
    keys = parse_qs(query, keep_blank_values=True)
    bucket_only = path.strip("/").count("/") == 0
    return bucket_only and ("list-type" in keys or "prefix" in keys or "delimiter" in keys)


@dataclass
class S3:
    endpoint: str
    requests: Requests
    env: Mapping[str, str]


@contextmanager
def moto_s3() -> Iterator[S3]:
    """Start moto's S3 on 127.0.0.1 (a free port), stop it after."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    class Quiet(MotoRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    app = DomainDispatcherApplication(create_backend_app)
    requests = Requests()

    def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        requests.add(environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"])
        result: Iterable[bytes] = app(environ, start_response)
        return result

    server = make_server("127.0.0.1", 0, counted, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="moto-s3", daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sweep-test-key",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        yield S3(endpoint, requests, env)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
