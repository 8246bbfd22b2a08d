"""The JSON outputs of a sweep, written run by run.

``json`` is the ``tbplateau.report/1`` document, byte for byte what
``Report.to_json(indent=1)`` gives, written as runs arrive; ``jsonl`` is one run per
line (an element of the document's ``runs`` array, in the same order). Neither
holds more than one run's text at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from tbplateau.report import REPORT_SCHEMA

__all__ = ["json_chunks", "jsonl_lines"]


def jsonl_lines(runs: Iterable[str]) -> Iterator[str]:
    """One line per run's JSON text (compact, as it came from the worker)."""
    for text in runs:
        yield text + "\n"


def json_chunks(logdir: str, runs: Iterable[str], *, indent: int = 1) -> Iterator[str]:
    """The report document with ``indent``, as ``json.dumps(doc, indent=indent)`` + newline.

    >>> doc = {"schema": REPORT_SCHEMA, "logdir": "x", "runs": [{"run": ".", "a": [1, {}]}]}
    >>> text = "".join(json_chunks("x", [json.dumps(doc["runs"][0])]))
    >>> text == json.dumps(doc, indent=1) + "\\n"
    True
    """
    pad = " " * indent
    yield "{\n" + pad + '"schema": ' + json.dumps(REPORT_SCHEMA) + ",\n"
    yield pad + '"logdir": ' + json.dumps(logdir) + ",\n" + pad + '"runs": ['
    first = True
    for text in runs:
        run = json.dumps(json.loads(text), indent=indent, allow_nan=False)
        body = run.replace("\n", "\n" + pad * 2)
        yield ("\n" if first else ",\n") + pad * 2 + body
        first = False
    yield "]\n}\n" if first else "\n" + pad + "]\n}\n"
