"""Every legal and illegal transition of a request (DOMAIN.md's workflow), in one place."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from mienskip_intake.domain.model import (
    ACTIONS,
    TRANSITIONS,
    IllegalTransition,
    Status,
    act,
    can_transition,
    is_late_decline,
    transition,
)

DRAWN = {  # DOMAIN.md, drawn by hand: (from, to)
    ("received", "queued"), ("queued", "proposed"), ("proposed", "approved"), ("approved", "accepted"),
    ("accepted", "completed"), ("queued", "unmatched"), ("proposed", "rejected"), ("rejected", "queued"),
    ("approved", "declined"), ("declined", "queued"), ("accepted", "declined"),
}
OPEN = {"received", "queued", "proposed", "approved", "accepted", "declined", "rejected", "unmatched"}


def test_every_drawn_transition_is_allowed():
    for current, wanted in DRAWN:
        assert can_transition(Status(current), Status(wanted)), (current, wanted)


def test_every_open_state_can_be_cancelled_and_closed_states_are_final():
    for status in Status:
        assert can_transition(status, Status.CANCELLED) == (status.value in OPEN)
    assert TRANSITIONS[Status.CANCELLED] == frozenset() and TRANSITIONS[Status.COMPLETED] == frozenset()


@pytest.mark.parametrize("current, wanted", [
    (c, w) for c, w in product(Status, Status) if not can_transition(c, w)])
def test_undrawn_transitions_raise(current, wanted):
    with pytest.raises(IllegalTransition):
        transition(current, wanted)


@pytest.mark.parametrize("action, current", [(a, s) for a, s in product(ACTIONS, Status)])
def test_people_actions_only_from_their_states(action, current):
    allowed_from, result = ACTIONS[action]
    if current in allowed_from:
        assert act(action, current) == result
        assert can_transition(current, result)  # consistent with the drawn workflow
    else:
        with pytest.raises(IllegalTransition):
            act(action, current)


def test_repeating_an_action_is_illegal():
    for action in ("approve", "accept", "reject"):
        once = act(action, next(iter(ACTIONS[action][0])))
        with pytest.raises(IllegalTransition):
            act(action, once)


def test_a_decline_within_48_hours_is_late():
    start = datetime(2026, 12, 3, 10, tzinfo=UTC)
    assert is_late_decline(start, start - timedelta(hours=47, minutes=59))
    assert not is_late_decline(start, start - timedelta(hours=48))


def test_messages_use_first_names_and_places_not_streets():
    from mienskip_intake.domain.model import first_name, neighbourhood_of

    assert first_name("Sjoukje Dijkstra-Wâldsma") == "Sjoukje" and first_name("  ") is None
    assert neighbourhood_of("Tsjerkepaed 3, 9001 AB Grou") == "Grou"
    assert neighbourhood_of("Skoalstrjitte 1, 9001AB Grou") == "Grou"
    assert neighbourhood_of("De Hooidollen 17, Leeuwarden") == "Leeuwarden"
    assert neighbourhood_of("Tsjerkepaed 3") is None and neighbourhood_of(None) is None
