"""A cancellation handled before an approval or acceptance that happened earlier (they
travel different queues), against SQLite and PostgreSQL: notify remembers the
cancelled request and tells the volunteer and resident nothing about it afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from notify_support import (
    ADDRESS,
    T0,
    VOLUNTEER_EMAIL,
    announcements,
    assignment,
    event,
    ports,
    rows,
    setup_people,
)
from sqlalchemy import func, select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.senders import SendFailed
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.service_layer.planning import REQUEST_CANCELLED, plan_batch
from mienskip_notify.service_layer.sending import give_up, notify_batch


def approved(**kwargs):
    return assignment("assignment.approved", auto=False, **kwargs)


def cancelled(*, occurred_at=T0 + timedelta(minutes=5)):
    return event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None},
                 occurred_at=occurred_at)


def outbox_types(engine):
    return sorted(event_type for event_type, _ in announcements(engine))


def cancelled_at(engine):
    with engine.connect() as conn:
        return conn.execute(select(tables.tasks.c.cancelled_at).where(tables.tasks.c.request_id == "rq-1")).scalar_one()


def mail_texts(mailbox):
    return [path.read_bytes() for path in sorted(mailbox.root.rglob("*.eml"))]


def test_an_approval_after_the_cancellation_sends_no_offer_and_leaves_nothing_pending(engine, mailbox, capsys, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    notify_batch([cancelled()], uow, p)  # nobody told yet: tells nobody
    assert rows(engine) == [] and cancelled_at(engine) == T0 + timedelta(minutes=5)

    notify_batch([approved()], uow, p)

    assert rows(engine) == [] and mail_texts(mailbox) == [] and outbox_types(engine) == []
    out = capsys.readouterr().out
    assert "assignment.request_already_cancelled" in out and "rq-1" in out
    for secret in (VOLUNTEER_EMAIL, "Hiltsje", ADDRESS, "Durk"):
        assert secret not in out
    with engine.connect() as conn:  # the approval's facts are still remembered beside the cancellation
        task = conn.execute(select(tables.tasks)).one()
    assert (task.category, task.cancelled_at) == ("pets", T0 + timedelta(minutes=5))


@pytest.mark.parametrize("approval_first", [True, False], ids=["approval-first", "cancellation-first"])
def test_a_cancellation_in_the_same_batch_as_the_approval_sends_no_offer(engine, mailbox, approval_first, uow):
    setup_people(engine)
    events = [approved(), cancelled()] if approval_first else [cancelled(), approved()]
    notify_batch(events, uow, ports({"mailbox": mailbox}))

    assert rows(engine) == [] and mail_texts(mailbox) == [] and outbox_types(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(tables.inbox)).scalar_one() == 3 + 2


def test_an_approval_before_the_cancellation_is_offered_and_then_cancelled(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    notify_batch([approved()], uow, p)
    notify_batch([cancelled()], uow, p)

    assert [(r.template, r.subject_id, r.status) for r in rows(engine)] == [
        ("volunteer_offer", "vo-7", "sent"), ("volunteer_cancellation", "vo-7", "sent")]
    assert len(mail_texts(mailbox)) == 2 and outbox_types(engine) == ["notification.sent"] * 2


def test_a_redelivered_cancellation_or_approval_is_harmless(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    cancellation, approval = cancelled(), approved()
    notify_batch([cancellation], uow, p)
    notify_batch([approval], uow, p)
    notify_batch([cancellation], uow, p)  # redelivered: still nobody was told
    notify_batch([approval, cancellation, approval], uow, p)
    # a later copy of the cancellation (another event, later time) keeps the first time
    notify_batch([cancelled(occurred_at=T0 + timedelta(hours=1))], uow, p)

    assert rows(engine) == [] and mail_texts(mailbox) == [] and outbox_types(engine) == []
    assert cancelled_at(engine) == T0 + timedelta(minutes=5)


def test_an_acceptance_after_the_cancellation_sends_no_address_and_tells_nobody_anything(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    notify_batch([approved()], uow, p)  # the offer went out
    notify_batch([cancelled()], uow, p)  # so the cancellation tells her
    notify_batch([assignment("assignment.accepted")], uow, p)  # she had accepted before it was cancelled

    assert [(r.template, r.recipient_kind, r.status) for r in rows(engine)] == [
        ("volunteer_offer", "volunteer", "sent"), ("volunteer_cancellation", "volunteer", "sent")]
    # no confirmation with the address, no "a volunteer is coming", no "accepted" to the kamer that cancelled
    for mail in mail_texts(mailbox):
        assert ADDRESS.encode() not in mail and b"Tsjerkepaed" not in mail


def test_late_events_and_a_redelivered_cancellation_tell_nobody_who_heard_nothing(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    cancellation = cancelled()
    notify_batch([cancellation], uow, p)
    notify_batch([approved(), assignment("assignment.accepted")], uow, p)  # both late: nothing at all
    notify_batch([cancellation], uow, p)  # redelivered: she heard nothing from us, so nothing to call off

    assert rows(engine) == []
    assert mail_texts(mailbox) == []


@pytest.mark.parametrize("first_try", ["send_failed", "crashed_before_sending"])
def test_an_offer_owed_when_the_cancellation_comes_is_not_sent_after_it(engine, mailbox, first_try, uow):
    setup_people(engine)

    class Down:
        def send(self, notification, message):
            raise SendFailed("OSError: No space left on device")

    approval = approved()
    if first_try == "send_failed":
        with pytest.raises(SendFailed):
            notify_batch([approval], uow, ports({"mailbox": Down()}))
    else:  # planned and committed, then the process died before sending
        with uow:
            plan_batch(uow, [approval], ports({"mailbox": mailbox}))
            uow.commit()
    p = ports({"mailbox": mailbox})
    notify_batch([cancelled()], uow, p)  # the offer may have gone out (a timeout after delivery): she is told
    notify_batch([approval], uow, p)  # the consumer's retry: no offer after the cancellation
    give_up(approval, SendFailed("OSError: No space left on device"), uow, p)  # nothing left, no call

    # a failed attempt's own reason is kept (as for any message given up); else the cancellation is the reason
    reason = "OSError: No space left on device" if first_try == "send_failed" else REQUEST_CANCELLED
    assert [(r.template, r.status, r.last_error) for r in rows(engine)] == [
        ("volunteer_offer", "failed", reason), ("volunteer_cancellation", "sent", None)]
    assert outbox_types(engine) == ["notification.failed", "notification.sent"]
    assert len(mail_texts(mailbox)) == 1


@pytest.mark.parametrize("first", ["cancellation", "approval"])
def test_two_processes_at_once_plan_one_after_the_other(pg_engine, mailbox, first):
    """Two notify processes: the one that comes second waits for the first to commit, then
    sees its cancellation (no offer) or its offer (which the cancellation then follows)."""
    engine = pg_engine
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    events = {"cancellation": cancelled(), "approval": approved()}
    second = "approval" if first == "cancellation" else "cancellation"
    second_done = threading.Event()

    def plan_second():
        with NotifyUnitOfWork(engine) as uow:
            plan_batch(uow, [events[second]], p)
            uow.commit()
        second_done.set()

    with NotifyUnitOfWork(engine) as uow:
        plan_batch(uow, [events[first]], p)
        other = threading.Thread(target=plan_second)
        other.start()
        assert not second_done.wait(0.5)  # held until the first commits
        uow.commit()
    other.join(timeout=10)
    assert second_done.is_set()

    expected = [] if first == "cancellation" else [("volunteer_offer", "vo-7"), ("volunteer_cancellation", "vo-7")]
    assert [(r.template, r.subject_id) for r in rows(engine)] == expected
