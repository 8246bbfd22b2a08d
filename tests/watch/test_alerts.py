"""The alert state machine, one transition at a time."""

from __future__ import annotations

import numpy as np
import pytest

from tbplateau.errors import InvalidParameterError
from tbplateau.findings import Finding, FindingKind
from tbplateau.series import Series
from tbplateau.watch.alerts import Alert, AlertBook, AlertState

S = {"loss": Series("r", "loss", steps=np.arange(0, 1000, 10), values=np.ones(100))}
"""100 points, steps 0..990: the onset tolerance is 5 points = 50 steps."""

P = FindingKind.PLATEAU


def plateau(start: int, end: int | None = None, confidence: float = 0.8) -> Finding:
    return Finding(P, start, end, ("loss",), confidence)


def step(
    book: AlertBook, found: list[Finding], now: float = 0.0, *, fresh: bool = True
) -> list[tuple[str, str, int]]:
    changes = book.evaluate("r", found, S, fresh={"loss"} if fresh else set(), now=now)
    return [(c.event.value, c.alert.state.value, c.alert.start_step) for c in changes]


def test_confirm_opens_after_n_evaluations_and_refinements_keep_the_alert() -> None:
    book = AlertBook(confirm=3)
    assert step(book, [plateau(400)]) == []
    assert step(book, [plateau(430)]) == []  # 3 points away: the same alert
    assert step(book, [plateau(420)]) == [("opened", "open", 420)]
    (a,) = book.alerts
    assert step(book, [plateau(420, confidence=0.95)]) == [("updated", "open", 420)]
    assert step(book, [plateau(420, confidence=0.97)]) == []  # a small change: silent
    assert [x.id for x in book.alerts] == [a.id]


def test_an_onset_beyond_the_tolerance_is_another_alert_unless_both_are_ongoing() -> None:
    book = AlertBook(confirm=1)
    assert step(book, [plateau(400, 500)]) == [("opened", "open", 400)]
    # an ended finding 30 points later is a different plateau
    assert step(book, [plateau(400, 500), plateau(700, 800)]) == [
        ("resolved", "resolved", 400),
        ("opened", "open", 700),
    ]
    book = AlertBook(confirm=1)
    step(book, [plateau(400)])
    # an ongoing finding whose onset jumped is still the ongoing plateau of this series
    assert step(book, [plateau(200)]) == [("updated", "open", 200)]
    assert len(book.alerts) == 1


def test_nonfinite_opens_at_once() -> None:
    book = AlertBook(confirm=5)
    f = Finding(FindingKind.NONFINITE, 300, None, ("loss",), 1.0)
    assert step(book, [f]) == [("opened", "open", 300)]


def test_a_pending_alert_that_disappears_says_nothing() -> None:
    book = AlertBook(confirm=2)
    assert step(book, [plateau(400)]) == []
    assert step(book, [], fresh=False) == []  # not an evaluation: still pending
    assert [a.state for a in book.alerts] == [AlertState.PENDING]
    assert step(book, []) == []  # an evaluation without it: forgotten
    assert book.alerts == ()


def test_only_evaluations_after_growth_count() -> None:
    book = AlertBook(confirm=2)
    assert step(book, [plateau(400)]) == []
    for _ in range(5):
        assert step(book, [plateau(400)], fresh=False) == []
    assert step(book, [plateau(400)]) == [("opened", "open", 400)]


def test_withdrawn_after_n_evaluations_without_it_and_back_within_cooldown_is_silent() -> None:
    book = AlertBook(confirm=2, cooldown=100)
    step(book, [plateau(400)], now=0)
    step(book, [plateau(400)], now=1)
    assert step(book, [], now=2) == []
    assert step(book, [], now=3) == [("withdrawn", "withdrawn", 400)]
    assert step(book, [plateau(400)], now=10) == []
    assert step(book, [plateau(400)], now=11) == [("updated", "open", 400)]  # not re-sent
    step(book, [], now=12)
    assert step(book, [], now=13) == [("withdrawn", "withdrawn", 400)]
    step(book, [plateau(400)], now=500)
    assert step(book, [plateau(400)], now=501) == [("opened", "open", 400)]  # after cooldown
    assert len(book.alerts) == 1


def test_the_closing_of_an_alert_back_within_cooldown_is_not_announced() -> None:
    book = AlertBook(confirm=1, cooldown=100)
    assert step(book, [plateau(400)], now=0) == [("opened", "open", 400)]
    assert step(book, [], now=1) == [("withdrawn", "withdrawn", 400)]
    assert step(book, [plateau(400)], now=2) == [("updated", "open", 400)]
    (a,) = book.alerts
    assert a.muted
    assert step(book, [], now=3) == [("withdrawn", "withdrawn", 400)]
    assert book.alerts[0].muted  # the engine does not announce this one
    assert step(book, [plateau(400)], now=500) == [("opened", "open", 400)]
    assert not book.alerts[0].muted


def test_resolved_when_the_end_holds_and_open_again_when_ongoing_again() -> None:
    book = AlertBook(confirm=2, cooldown=0)
    step(book, [plateau(400)])
    step(book, [plateau(400)])
    assert step(book, [plateau(400, 600)]) == [("updated", "open", 400)]
    assert step(book, [plateau(400, 600)]) == [("resolved", "resolved", 400)]
    assert step(book, [plateau(400, 620)]) == [("updated", "resolved", 400)]  # refined
    assert step(book, [plateau(400)]) == [("updated", "resolved", 400)]  # no end: once...
    assert step(book, [plateau(400)]) == [("opened", "open", 400)]  # ... twice: open again


def test_settle_makes_the_alerts_agree_with_the_findings() -> None:
    book = AlertBook(confirm=2)
    step(book, [plateau(100)])
    step(book, [plateau(100)])  # open
    step(book, [plateau(100), plateau(500, 600), plateau(900, 950)])  # two pending
    changes = book.settle("r", [plateau(100, 300), plateau(500, 600), plateau(800)], S, now=0)
    got = [(c.event.value, c.alert.state.value, c.alert.start_step) for c in changes]
    assert got == [
        ("resolved", "resolved", 100),
        ("opened", "open", 500),
        ("resolved", "resolved", 500),
        ("opened", "open", 800),
    ]  # and the pending plateau at 900 is forgotten without a word
    assert sorted(a.start_step for a in book.alerts) == [100, 500, 800]


def test_a_vanished_run_withdraws_its_alerts() -> None:
    book = AlertBook(confirm=1)
    step(book, [plateau(100)])
    book.evaluate("r", [plateau(500)], S, fresh=set(), now=0)
    changes = book.remove_run("r", now=5)
    assert [(c.event.value, c.reason) for c in changes] == [("withdrawn", "run_removed")]


def test_alerts_round_trip_through_their_dict() -> None:
    book = AlertBook(confirm=1)
    step(book, [plateau(100, 300)])
    (a,) = book.alerts
    assert Alert.from_dict(a.to_dict()) == a


@pytest.mark.parametrize("confirm", [0, -1, 1.5, True])
def test_confirm_must_be_a_positive_integer(confirm: object) -> None:
    with pytest.raises(InvalidParameterError, match="confirm"):
        AlertBook(confirm=confirm)  # type: ignore[arg-type]


def test_cooldown_must_not_be_negative() -> None:
    with pytest.raises(InvalidParameterError, match="cooldown"):
        AlertBook(cooldown=-1)
