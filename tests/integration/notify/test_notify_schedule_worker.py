"""Reminders, "how did it go?" and follow-ups on SQLite and PostgreSQL: sent once, at their
time, across a restart (new engine, unit of work, ports and sender on the same database,
the clock moved), and never for a cancelled, declined or erased task."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from notify_support import ADDRESS, START, T0, assignment, event, ports, rows, setup_people
from sqlalchemy import select

from mienskip_notify.adapters.schedule_tables import schedule
from mienskip_notify.adapters.senders import MailboxSender, SendFailed
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import MIGRATIONS, VERSION_TABLE
from mienskip_notify.service_layer.contacts import erase_person
from mienskip_notify.service_layer.due import send_due
from mienskip_notify.service_layer.sending import notify_batch
from mienskip_shared.db import make_engine, upgrade

END = START + timedelta(hours=1)
REMINDER_AT = START.replace(hour=17) - timedelta(days=1)  # Monday 30 Nov 18:00 in Leeuwarden
FOLLOW_UP_AT = END + timedelta(days=3)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class CountingMailbox(MailboxSender):
    """The demo's mailbox, counting every send (a file written twice is one file)."""

    def __init__(self, root, sent: list):
        super().__init__(root)
        self.sent = sent

    def send(self, notification, message):
        self.sent.append((notification.template, notification.recipient_kind))
        super().send(notification, message)


class Process:
    """What one notify process builds: its own engine, unit of work, ports and sender."""

    def __init__(self, url, mailbox_root, sent, clock):
        self.engine = make_engine(url)
        self.ports = ports({"mailbox": CountingMailbox(mailbox_root, sent)}, clock=clock)

    def handle(self, *envelopes):
        notify_batch(list(envelopes), NotifyUnitOfWork(self.engine), self.ports)

    def send_due(self):
        while send_due(NotifyUnitOfWork(self.engine), self.ports):
            pass

    def close(self):
        self.engine.dispose()


@pytest.fixture
def world(database_url, tmp_path):
    engine = make_engine(database_url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    setup_people(engine, volunteer_email="hiltsje@example.org", resident_phone=None)
    engine.dispose()
    sent, clock, made = [], Clock(T0), []

    def start():
        process = Process(database_url, tmp_path / "mailbox", sent, clock)
        made.append(process)
        return process

    yield start, sent, clock
    for process in made:
        process.close()


def statuses(engine):
    with engine.connect() as conn:
        return {row.kind: row.status for row in conn.execute(select(schedule.c.kind, schedule.c.status))}


def scheduled_mail(sent):
    return [template for template, _ in sent
            if template in ("volunteer_reminder", "resident_reminder", "visit_question", "resident_follow_up",
                            "follow_up_by_phone")]


def test_each_is_sent_once_at_its_time_across_restarts(world):
    start, sent, clock = world
    first = start()
    first.handle(assignment("assignment.accepted"))
    assert statuses(first.engine) == {"reminder": "pending", "how_did_it_go": "pending", "follow_up": "pending"}
    first.send_due()
    assert scheduled_mail(sent) == []  # a week early: nothing due
    first.close()

    clock.now = REMINDER_AT - timedelta(seconds=1)
    second = start()  # notify restarted: new objects, the same database
    second.send_due()
    assert scheduled_mail(sent) == []
    clock.now = REMINDER_AT
    second.send_due()
    second.send_due()
    # Durk has no e-mail or phone: he has no reminder (the kamer phoned him with the task)
    assert scheduled_mail(sent) == ["volunteer_reminder"]
    reminder = [r for r in rows(second.engine) if r.template == "volunteer_reminder"]
    assert [(r.status, r.recipient) for r in reminder] == [("sent", "hiltsje@example.org")]
    second.close()

    clock.now = END + timedelta(minutes=1)
    third = start()
    third.send_due()
    third.send_due()
    assert scheduled_mail(sent) == ["volunteer_reminder", "visit_question"]
    clock.now = FOLLOW_UP_AT + timedelta(days=30)  # long after: each still once
    fourth = start()
    fourth.send_due()
    fourth.handle(assignment("assignment.accepted"))  # a redelivered acceptance schedules nothing again
    fourth.send_due()
    assert scheduled_mail(sent) == ["volunteer_reminder", "visit_question", "follow_up_by_phone"]
    assert statuses(fourth.engine) == {"reminder": "done", "how_did_it_go": "done", "follow_up": "done"}


def test_the_reminder_tells_the_volunteer_the_address_in_her_language(world, tmp_path):
    start, sent, clock = world
    process = start()
    process.handle(assignment("assignment.accepted"))
    clock.now = REMINDER_AT
    process.send_due()
    mails = [message_from_bytes(p.read_bytes(), policy=default) for p in (tmp_path / "mailbox").rglob("*.eml")]
    (reminder,) = [m for m in mails if m["Subject"].startswith("Oantinken")]  # Hiltsje reads Frisian
    assert ADDRESS in reminder.get_body(("plain",)).get_content()


def cancelled():
    return event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None},
                 occurred_at=T0 + timedelta(hours=1))


@pytest.mark.parametrize("how", ["cancelled", "cancelled-first", "declined", "declined-first", "volunteer-erased",
                                 "resident-erased"])
def test_nothing_for_a_task_that_is_off(world, how):
    start, sent, clock = world
    process = start()
    if how == "cancelled-first":  # the cancellation overtook the acceptance (another queue)
        process.handle(cancelled())
    elif how == "declined-first":  # she backed out, and that overtook her yes
        process.handle(assignment("assignment.declined", rematch=True, after_accept=True,
                                  occurred_at=T0 + timedelta(hours=1)))
    process.handle(assignment("assignment.accepted"))
    if how == "cancelled":
        process.handle(cancelled())
    elif how == "declined":
        process.handle(assignment("assignment.declined", rematch=True, after_accept=True))
    elif how.endswith("-erased"):
        kind, subject_id = ("volunteer", "vo-7") if how.startswith("volunteer") else ("resident", "rq-1")
        erase_person(event("personal_data.erased", {"subject_kind": kind, "subject_id": subject_id,
                                                    "kamer_id": "grou", "reason": "request"}),
                     NotifyUnitOfWork(process.engine))
    clock.now = FOLLOW_UP_AT + timedelta(days=1)
    process.send_due()
    assert scheduled_mail(sent) == []
    assert set(statuses(process.engine).values()) <= {"cancelled"}


def test_a_new_assignment_of_the_request_schedules_anew(world):
    start, sent, clock = world
    process = start()
    process.handle(assignment("assignment.accepted"))
    process.handle(assignment("assignment.declined", rematch=True, after_accept=True))  # backs out
    process.handle(assignment("assignment.accepted", assignment_id="as-2", occurred_at=T0 + timedelta(days=1)))
    clock.now = END + timedelta(minutes=1)
    process.send_due()
    with process.engine.connect() as conn:
        items = conn.execute(select(schedule.c.kind, schedule.c.subject_id, schedule.c.status)
                             .order_by(schedule.c.subject_id, schedule.c.due_at)).all()
    assert [tuple(i) for i in items] == [
        ("reminder", "as-1", "cancelled"), ("how_did_it_go", "as-1", "cancelled"), ("follow_up", "as-1", "cancelled"),
        ("reminder", "as-2", "done"), ("how_did_it_go", "as-2", "done"), ("follow_up", "as-2", "pending")]
    assert scheduled_mail(sent) == ["volunteer_reminder", "visit_question"]


def test_a_recorded_visit_needs_no_question_and_one_not_done_tells_the_kamer(world):
    from mienskip_notify.service_layer.after_match import visit_recorded

    start, sent, clock = world
    process = start()
    process.handle(assignment("assignment.accepted"))
    completed = event("assignment.completed", {
        "assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "actor": "volunteer", "done": False, "reason": "niemand thuis"},
        occurred_at=START)
    for _ in range(2):  # redelivered: told once
        visit_recorded(completed, NotifyUnitOfWork(process.engine), process.ports)
    clock.now = FOLLOW_UP_AT + timedelta(days=1)
    process.send_due()
    assert [t for t, _ in sent if t in ("visit_question", "follow_up_by_phone", "visit_not_done")] == ["visit_not_done"]
    assert statuses(process.engine) == {"reminder": "done", "how_did_it_go": "cancelled", "follow_up": "cancelled"}


def test_two_workers_claiming_the_same_due_item_send_it_once(postgres_url, tmp_path):
    engine = make_engine(postgres_url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    setup_people(engine)
    engine.dispose()
    sent, clock = [], Clock(T0)
    one, two = (Process(postgres_url, tmp_path / "mailbox", sent, clock) for _ in range(2))
    try:
        one.handle(assignment("assignment.accepted"))
        clock.now = FOLLOW_UP_AT + timedelta(minutes=1)  # all three due at once
        # one holds its claim open: the other skips the locked rows rather than take them
        with NotifyUnitOfWork(one.engine) as held:
            claimed = held.schedule.claim_due(clock.now, clock.now + timedelta(minutes=5), 10)
            with NotifyUnitOfWork(two.engine) as other:
                assert [i.kind for i in claimed] == ["reminder", "how_did_it_go", "follow_up"]
                assert other.schedule.claim_due(clock.now, clock.now + timedelta(minutes=5), 10) == []
        # neither committed: both run whole rounds at the same time
        barrier = threading.Barrier(2)

        def run(process):
            barrier.wait()
            process.send_due()

        threads = [threading.Thread(target=run, args=(p,)) for p in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(scheduled_mail(sent)) == ["follow_up_by_phone", "visit_question", "volunteer_reminder"]
    finally:
        one.close()
        two.close()


def test_a_process_that_stopped_after_its_claim_leaves_the_item_to_the_next_once_the_claim_times_out(world):
    from mienskip_notify.domain.schedule import CLAIM_TIMEOUT

    start, sent, clock = world
    process = start()
    process.handle(assignment("assignment.accepted"))
    clock.now = REMINDER_AT
    with NotifyUnitOfWork(process.engine) as uow:  # claimed and committed, then the process died
        (claimed,) = uow.schedule.claim_due(clock.now, clock.now + CLAIM_TIMEOUT, 10)
        uow.commit()
    process.close()
    successor = start()
    successor.send_due()
    assert scheduled_mail(sent) == []  # still someone else's claim
    clock.now = REMINDER_AT + CLAIM_TIMEOUT
    successor.send_due()
    successor.send_due()
    assert claimed.kind == "reminder" and scheduled_mail(sent) == ["volunteer_reminder"]


class DownMailbox(CountingMailbox):
    """The mailbox's disk refuses writes while ``down`` is set."""

    down = True

    def send(self, notification, message):
        if self.down:
            raise SendFailed("disk full")
        super().send(notification, message)


def test_a_failed_send_is_tried_again_later_and_then_sent_once(world, tmp_path):
    from mienskip_notify.domain.schedule import retry_delay

    start, sent, clock = world
    process = start()
    process.handle(assignment("assignment.accepted"))
    mailbox = DownMailbox(tmp_path / "mailbox", sent)
    process.ports = ports({"mailbox": mailbox}, clock=clock)
    clock.now = REMINDER_AT
    process.send_due()
    assert scheduled_mail(sent) == [] and statuses(process.engine)["reminder"] == "planned"
    (row,) = [r for r in rows(process.engine) if r.template == "volunteer_reminder"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "disk full")
    mailbox.down = False
    clock.now = REMINDER_AT + retry_delay(1) - timedelta(seconds=1)
    process.send_due()
    assert scheduled_mail(sent) == []  # not before its next try
    clock.now = REMINDER_AT + retry_delay(1)
    process.send_due()
    process.send_due()
    assert scheduled_mail(sent) == ["volunteer_reminder"] and statuses(process.engine)["reminder"] == "done"
