"""The JSON outputs of a sweep, written run by run.

``json`` is the ``tbplateau.report/1`` document, byte for byte what
``Report.to_json(indent=1)`` gives, written as runs arrive; ``jsonl`` is one run per
line (an element of the document's ``runs`` array, in the same order). Neither
holds more than one run at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from tbplateau.report import REPORT_SCHEMA

__all__ = ["json_chunks", "jsonl_lines"]

RunDoc = Mapping[str, Any]


def jsonl_lines(runs: Iterable[RunDoc]) -> Iterator[str]:
    """One line per run: its element of the report's ``runs`` array."""
    for run in runs:
        yield json.dumps(run, allow_nan=False) + "\n"


def json_chunks(logdir: str, runs: Iterable[RunDoc], *, indent: int = 1) -> Iterator[str]:
    """The report document, as ``json.dumps(doc, indent=indent)`` and a newline give it.

    >>> doc = {"schema": REPORT_SCHEMA, "logdir": "x", "runs": [{"run": ".", "a": [1, {}]}]}
    >>> "".join(json_chunks("x", doc["runs"])) == json.dumps(doc, indent=1) + "\\n"
    True
    """
    pad = " " * indent
    yield "{\n" + pad + '"schema": ' + json.dumps(REPORT_SCHEMA) + ",\n"
    yield pad + '"logdir": ' + json.dumps(logdir) + ",\n" + pad + '"runs": ['
    first = True
    for run in runs:
        # JSON strings escape newlines: every newline here is structure, safe to indent
        body = json.dumps(run, indent=indent, allow_nan=False).replace("\n", "\n" + pad * 2)
        yield ("\n" if first else ",\n") + pad * 2 + body
        first = False
    yield "]\n}\n" if first else "\n" + pad + "]\n}\n"
