"""The report model reads its own JSON document back."""

from __future__ import annotations

import enum
import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tbplateau import report as report_module
from tbplateau import stats
from tbplateau.analysis import analyze
from tbplateau.findings import Finding, FindingKind
from tbplateau.report import REPORT_SCHEMA, Report, RunReport, SeriesReport, dumps_indented
from tests.helpers import compiled_kernels

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LOGDIRS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


@pytest.mark.parametrize("logdir", LOGDIRS, ids=lambda p: p.name)
def test_from_dict_round_trips_every_fixture(logdir: Path) -> None:
    doc = json.loads(analyze(logdir).to_json())
    again = Report.from_dict(doc)
    assert again.to_dict() == doc
    assert sum(1 for _ in again.findings()) == sum(
        len(s["findings"]) for r in doc["runs"] for s in r["series"]
    ) + sum(len(r["findings"]) for r in doc["runs"])


def test_from_dict_rejects_another_document() -> None:
    with pytest.raises(ValueError, match=REPORT_SCHEMA):
        Report.from_dict({"schema": "tbplateau.ls/1", "logdir": ".", "runs": []})


class _Kind(enum.IntEnum):
    ONE = 1


class _Name(str, enum.Enum):
    A = "a\u00e9"


_DOCS: list[Any] = [
    {},
    [],
    {"a": [], "b": {}, "c": [[]], "d": [{}]},
    ["x", 'q"uo\\te\n\t\u2028', "caf\u00e9 \U0001f600", "", "\x00"],
    {"n": None, "t": True, "f": False, "i": -3, "big": 10**30, "z": 0.0, "mz": -0.0},
    {"floats": [0.1, 1e-310, 1e300, -2.5, 1 / 3, float(np.float64(0.7))]},
    (1, (2, 3), [4, (5,)]),
    {"enum": _Kind.ONE, "strenum": _Name.A, "np": np.float64(0.25), "bool_": [True, 1]},
    {"deep": {"er": {"est": [1, {"x": [None]}]}}},
]


@pytest.mark.parametrize("doc", _DOCS)
@pytest.mark.parametrize("indent", [0, 1, 2, 4])
def test_dumps_indented_is_json_dumps_to_the_byte(doc: Any, indent: int) -> None:
    assert dumps_indented(doc, indent) == json.dumps(doc, indent=indent, allow_nan=False)


@pytest.mark.parametrize(
    "doc",
    [
        {1: "int key"},
        {2.5: "x", None: 1, True: 2},  # json.dumps turns these keys into strings
        {"a": [1, {"b": math.nan}]},
        [math.inf],
        {"x": {1, 2}},  # not JSON
        {"x": np.int64(3)},  # not JSON either
    ],
)
def test_dumps_indented_leaves_the_rest_to_json_dumps(doc: Any) -> None:
    try:
        want = json.dumps(doc, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc), match="^" + re.escape(str(exc)) + "$"):
            dumps_indented(doc, 2)
    else:
        assert dumps_indented(doc, 2) == want


_HOSTILE: list[Any] = [
    {"\u2028\x7f\x1f\ud800": ["\ud83d\ude00", "\U0010ffff", '\\"/\b\f\r']},
    {"k": [[[[[[[[[[1.5]]]]]]]]]], "e": [{}, [], ({},)]},
    [2**64, -(2**70), 5e-324, -1.7976931348623157e308, True, False, None],
    {"long": "x" * 100_000, "many": list(range(20_000))},
]


@pytest.mark.parametrize("doc", _DOCS + _HOSTILE)
@pytest.mark.parametrize("step", ["", " ", "  ", "\t"])
def test_dumps_indented_kernel_writes_json_dumps_bytes(doc: Any, step: str) -> None:
    kernels = compiled_kernels()
    text = kernels.dumps_indented(doc, step, json.encoder.encode_basestring_ascii)
    assert text == json.dumps(doc, indent=step, allow_nan=False)


class _List(list[int]):
    def __iter__(self) -> Any:
        return iter([9])


@pytest.mark.parametrize(
    "doc",
    [
        {1: "int key"},
        [1.0, math.nan],
        {"x": {1, 2}},
        {"x": np.int64(3)},
        _List([1]),  # a subclass may iterate otherwise: Python's writer decides
        {"o": __import__("collections").OrderedDict(a=1)},
        json.loads("[" * 600 + "]" * 600),  # deeper than the kernel goes
    ],
)
def test_dumps_indented_kernel_declines_what_python_decides(doc: Any) -> None:
    kernels = compiled_kernels()
    assert kernels.dumps_indented(doc, "  ", json.encoder.encode_basestring_ascii) is None


def test_dumps_indented_kernel_declines_when_its_encoder_changes_the_document() -> None:
    kernels = compiled_kernels()
    for doc in (["a", "b", "c"], {"a": "x", "b": "y"}):

        def shrink(s: str, doc: Any = doc) -> str:
            doc.clear()
            return str(json.encoder.encode_basestring_ascii(s))

        assert kernels.dumps_indented(doc, " ", shrink) is None


def test_dumps_indented_is_the_same_without_the_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "KERNELS", compiled_kernels())
    docs = [*_DOCS, *_HOSTILE, _List([1]), json.loads("[" * 600 + "]" * 600)]
    fast = [dumps_indented(d, 1) for d in docs]
    monkeypatch.setattr(stats, "KERNELS", None)
    assert fast == [dumps_indented(d, 1) for d in docs]
    assert fast[-2] == "[\n 9\n]"


@pytest.mark.parametrize("logdir", LOGDIRS[:6], ids=lambda p: p.name)
def test_to_json_is_json_dumps_of_the_document(logdir: Path) -> None:
    report = analyze(logdir)
    for indent in (None, 1, 2):
        want = json.dumps(report.to_dict(), indent=indent, allow_nan=False)
        assert report.to_json(indent=indent) == want


def test_copies_with_a_run_or_findings_are_what_replace_makes() -> None:
    f = Finding(FindingKind.PLATEAU, 10, None, ("loss",), 0.9, {"constant": True, "x": [1]})
    moved = report_module._copy_with(f, "run", "a")
    assert moved == replace(f, run="a")
    assert moved.run == "a"
    assert f.run is None
    assert moved.detail == replace(f, run="a").detail
    assert type(moved) is Finding
    s = SeriesReport("loss", "min", 3, 0, 0, 2, 1, 0.5, 0.6, (), judged=frozenset(FindingKind))
    found = (moved,)
    copied = report_module._copy_with(s, "findings", found)
    assert copied == replace(s, findings=found)
    assert copied.findings is found
    assert copied.judged == replace(s, findings=found).judged
    assert s.findings == ()
    run = RunReport("a", (), (replace(s, findings=(f,)),), ())
    assert run.series[0].findings[0].run == "a"
