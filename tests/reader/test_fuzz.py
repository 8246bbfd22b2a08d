"""Fuzzing the scanners: seeded damage, both scanners, whole and in chunks, against a judge.

For every case (see :mod:`tests.reader.fuzzing`): the compiled and the pure-Python
scanner, fed the file whole and in random chunks, must give identical results (every
array byte for byte, every issue, the state carried to the next scan), raise
nothing, and recover exactly the intact records the independent walker lists: the
points read from the damaged file equal those read from a clean file holding just
those records. A subset is also read as a growing file, in random increments, and
must end where one read of the whole file ends.

``TBPLATEAU_FUZZ_CASES`` sets the number of cases of the slow run;
``TBPLATEAU_REQUIRE_C=1`` (the sanitizer step of CI) fails instead of skipping the
compiled scanner when it is not built.
"""

from __future__ import annotations

import itertools
import os
import random
from typing import Any

import pytest

from tbplateau.reader import scan
from tbplateau.reader.scan import Backend, Damage, FileScan, TagState, backend, scan_bytes
from tests.reader import fuzzing

DEFAULT_CASES = 2000


def _impls() -> list[Backend]:
    impls = [backend("python")]
    try:
        impls.append(backend("c"))
    except ImportError:  # pragma: no cover - depends on the build
        if os.environ.get("TBPLATEAU_REQUIRE_C") == "1":
            raise
    return impls


def canonical(res: FileScan) -> tuple[Any, ...]:
    """Everything a scan hands on, as plain comparable values (arrays as raw bytes)."""
    s = res.state
    return (
        res.offset,
        res.damage,
        res.tag_ids.tobytes(),
        res.steps.tobytes(),
        res.wall_times.tobytes(),
        res.values.tobytes(),
        res.encodings.tobytes(),
        res.others.tobytes(),
        res.issues,
        res.tail_issues,
        res.records,
        res.session_starts,
        res.file_version,
        res.foreign,
        res.first_foreign,
        res.before_offset,
        s.tag_names,
        s.tag_offsets,
        s.plugins,
    )


def points(res: FileScan) -> tuple[Any, ...]:
    """What the records held, independent of where they sat in the file."""
    unparsable = sum("unparsable Event" in m for _, _, m in res.issues)
    return (
        res.tag_ids.tobytes(),
        res.steps.tobytes(),
        res.wall_times.tobytes(),
        res.values.tobytes(),
        res.encodings.tobytes(),
        res.others.tobytes(),
        res.records,
        res.session_starts,
        res.file_version,
        res.foreign,
        res.state.tag_names,
        res.state.plugins,
        unparsable,
    )


def random_chunks(rng: random.Random, data: bytes) -> list[bytes]:
    cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 8)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def spans(issues: list[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
    """Issues without the reason of a damaged span: a record that ran past the end of a
    growing file is "damage after which a valid record starts" where one read of the
    whole file sees its bad data CRC; the span skipped is the same."""
    return [(o, p, m.split("; skipped")[-1]) for o, p, m in issues]


def grow(impl: Backend, rng: random.Random, data: bytes) -> tuple[Any, ...]:
    """Read ``data`` as a file growing in random steps; the end state, as canonical() has it."""
    state = TagState()
    offset = 0
    damage_: Damage | None = None
    issues: list[tuple[int, str, str]] = []
    parts: list[FileScan] = []
    res = None
    for end in [*sorted(rng.randrange(len(data) + 1) for _ in range(3)), len(data)]:
        if end <= offset:
            continue
        res = scan_bytes([data[offset:end]], start=offset, damage=damage_, state=state, impl=impl)
        offset, damage_ = res.offset, res.damage
        issues += res.issues
        parts.append(res)
    if res is None:
        res = scan_bytes([b""], impl=impl)
    join = b"".join
    return (
        offset,
        damage_.start if damage_ else None,
        join(p.tag_ids.tobytes() for p in parts),
        join(p.values.tobytes() for p in parts),
        spans(issues),
        spans(res.tail_issues),
        sum(p.records for p in parts),
    )


def check_case(seed: int) -> dict[str, int]:
    """Run one fuzz case; return its counts (intact records, lost, mismatches)."""
    rng = random.Random(seed)
    data, names = fuzzing.mutate(rng)
    why = f"seed {seed}, mutations {names}, {len(data)} bytes"
    results = []
    for impl in _impls():
        results.append(canonical(scan_bytes([data], impl=impl)))
        results.append(canonical(scan_bytes(random_chunks(rng, data), impl=impl)))
    mismatches = sum(r != results[0] for r in results[1:])
    assert mismatches == 0, why
    intact = fuzzing.intact_records(data)
    expected = points(scan_bytes([fuzzing.frame_payloads([p for _, p in intact])]))
    got = points(scan_bytes([data]))
    lost = 0 if got == expected else max(1, len(intact) - got[6])
    assert got == expected, f"{why}: intact records {[o for o, _ in intact]}"
    if seed % 4 == 0:
        whole = scan_bytes([data])
        want = (
            whole.offset,
            whole.damage.start if whole.damage else None,
            whole.tag_ids.tobytes(),
            whole.values.tobytes(),
            spans(whole.issues),
            spans(whole.tail_issues),
            whole.records,
        )
        for impl in _impls():
            assert grow(impl, rng, data) == want, f"{why}: read as a growing file"
    return {"cases": 1, "intact": len(intact), "lost": lost, "mismatches": mismatches}


def run(cases: int, first_seed: int = 0) -> dict[str, int]:
    total = {"cases": 0, "intact": 0, "lost": 0, "mismatches": 0}
    for seed in range(first_seed, first_seed + cases):
        for k, v in check_case(seed).items():
            total[k] += v
    return total


def test_fuzz_default() -> None:
    total = run(DEFAULT_CASES)
    print(f"\nfuzz: {total} scanners {[b.__name__ for b in _impls()]}")  # type: ignore[attr-defined]
    assert total["cases"] == DEFAULT_CASES
    assert total["intact"] > 10 * DEFAULT_CASES  # the cases do hold records to lose


@pytest.mark.slow
def test_fuzz_slow() -> None:
    cases = int(os.environ.get("TBPLATEAU_FUZZ_CASES", "20000"))
    total = run(cases, first_seed=1_000_000)
    print(f"\nfuzz (slow): {total}")
    assert total["cases"] == cases


def test_every_mutation_is_exercised() -> None:
    rng = random.Random(7)
    seen: set[str] = set()
    for _ in range(300):
        seen.update(fuzzing.mutate(rng)[1])
    assert seen == set(fuzzing.MUTATIONS)


def test_the_judge_finds_every_record_of_a_clean_file() -> None:
    for data in fuzzing.base_files():
        records = fuzzing.intact_records(data)
        assert fuzzing.frame_payloads([p for _, p in records]) == data


def test_the_scanner_in_use_is_fuzzed() -> None:
    names = [b.__name__ for b in _impls()]  # type: ignore[attr-defined]
    assert scan._BACKEND.__name__ in names  # type: ignore[attr-defined]
