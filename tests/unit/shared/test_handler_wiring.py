"""One handler per subscribed event type, checked when a consumer is wired (dispatch_by_type)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu import Connection

from mienskip_shared.contracts import new_event
from mienskip_shared.messaging import EventConsumer, MissingHandler, Subscription, dispatch_by_type

CANCELLED = Subscription("testsvc", "intake", "request.cancelled")
UNMATCHED = Subscription("testsvc", "matching", "request.unmatched")


def _recorder(seen: list, name: str):
    return lambda envelope: seen.append((name, envelope))


# -- wiring time -----------------------------------------------------------------------------------
def test_a_subscription_without_a_handler_is_reported_at_wiring_naming_its_type_and_consumer():
    with pytest.raises(MissingHandler, match=r"testsvc subscribes to \['request.unmatched'\]") as raised:
        dispatch_by_type([CANCELLED, UNMATCHED], {"request.cancelled": lambda envelope: None})
    assert raised.value.event_types == ["request.unmatched"]
    assert raised.value.consumer == "testsvc"


def test_every_missing_type_is_listed_once_sorted():
    again = Subscription("testsvc", "notify", "request.unmatched")  # same type from another source
    with pytest.raises(MissingHandler) as raised:
        dispatch_by_type([UNMATCHED, CANCELLED, again], {})
    assert raised.value.event_types == ["request.cancelled", "request.unmatched"]


def test_handlers_for_types_nobody_subscribes_to_are_allowed():
    handle = dispatch_by_type([CANCELLED], {"request.cancelled": lambda envelope: None,
                                            "request.unmatched": lambda envelope: None})
    assert callable(handle)


def test_a_consumer_without_subscriptions_needs_no_handlers():
    assert callable(dispatch_by_type([], {}))


# -- dispatch ---------------------------------------------------------------------------------------
def test_each_event_goes_to_the_handler_for_its_type():
    seen: list = []
    handle = dispatch_by_type([CANCELLED, UNMATCHED], {"request.cancelled": _recorder(seen, "cancelled"),
                                                       "request.unmatched": _recorder(seen, "unmatched")})
    first, second = SimpleNamespace(event_type="request.unmatched"), SimpleNamespace(event_type="request.cancelled")
    handle(first)
    handle(second)
    assert seen == [("unmatched", first), ("cancelled", second)]


def test_a_handlers_failure_reaches_the_consumer_unchanged():
    def boom(envelope):
        raise ValueError("database away")

    handle = dispatch_by_type([CANCELLED], {"request.cancelled": boom})
    with pytest.raises(ValueError, match="database away"):
        handle(SimpleNamespace(event_type="request.cancelled"))


def test_the_handler_table_is_taken_at_wiring_time():
    seen: list = []
    table = {"request.cancelled": _recorder(seen, "wired")}
    handle = dispatch_by_type([CANCELLED], table)
    table["request.cancelled"] = _recorder(seen, "later")
    handle(SimpleNamespace(event_type="request.cancelled"))
    assert [name for name, _ in seen] == ["wired"]


# -- an unknown type at run time: a failure like any other (retried, then dead-lettered) ------------
def test_an_event_of_a_type_without_a_handler_raises_missing_handler_naming_it():
    handle = dispatch_by_type([CANCELLED], {"request.cancelled": lambda envelope: None})
    with pytest.raises(MissingHandler, match="request.unmatched") as raised:
        handle(SimpleNamespace(event_type="request.unmatched"))
    assert raised.value.event_types == ["request.unmatched"]


class FakeMessage:
    def __init__(self, body: str):
        self.body = body
        self.headers: dict = {}
        self.properties: dict = {}
        self.acked = False

    def ack(self) -> None:
        self.acked = True


def _unmatched_message() -> FakeMessage:
    return FakeMessage(new_event("request.unmatched", {
        "request_id": "r1", "kamer_id": "k1", "region": "grou", "reasons": {}, "summary": "nobody"},
        correlation_id="r1").to_json())


def _consumer(retry_delays_ms, on_give_up=None) -> EventConsumer:
    # Wired for `request.cancelled` only, but consuming `request.unmatched` too: an event
    # whose type has no handler reaches the dispatcher.
    handle = dispatch_by_type([CANCELLED], {"request.cancelled": lambda envelope: None})
    return EventConsumer("testsvc", lambda: Connection("memory://"), [CANCELLED, UNMATCHED], handle,
                         retry_delays_ms=retry_delays_ms, on_give_up=on_give_up)


def test_the_consumer_retries_an_event_whose_type_has_no_handler():
    consumer = _consumer(retry_delays_ms=(50,))
    retried = []
    consumer.retry_later = lambda sub, message, exc, envelope=None: retried.append((sub, exc, envelope))
    message = _unmatched_message()
    consumer.process(UNMATCHED, message)
    ((sub, exc, envelope),) = retried
    assert sub == UNMATCHED and envelope.event_type == "request.unmatched"
    assert isinstance(exc, MissingHandler) and exc.event_types == ["request.unmatched"]
    assert not message.acked  # retry_later acks, after republishing


def test_after_the_last_retry_it_is_given_up_and_dead_lettered():
    given_up = []
    consumer = _consumer(retry_delays_ms=(), on_give_up=lambda envelope, exc: given_up.append((envelope, exc)))
    dead = []
    consumer.dead_letter = lambda sub, message, reason: dead.append((sub, reason))
    consumer.process(UNMATCHED, _unmatched_message())
    ((envelope, exc),) = given_up
    assert envelope.event_type == "request.unmatched" and isinstance(exc, MissingHandler)
    ((sub, reason),) = dead
    assert sub == UNMATCHED and "MissingHandler" in reason and "request.unmatched" in reason


# -- the services' own tables (notify's is built in its bootstrap: see its integration tests) --------
def test_intake_and_matching_have_a_handler_for_every_subscription():
    from mienskip_intake.entrypoints.consumer import build_consumer
    from mienskip_intake.settings import Settings
    from mienskip_matching.domain.solver import SolverConfig
    from mienskip_matching.entrypoints.consumer import make_handle

    assert callable(make_handle(engine=None, config=SolverConfig()))
    assert isinstance(build_consumer(Settings(broker_url="memory://"), engine=None), EventConsumer)
