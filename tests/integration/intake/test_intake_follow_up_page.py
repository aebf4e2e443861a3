"""The resident's follow-up page /f/<token>: no account, in their language; the first
answer counts (a second changes nothing); a "no" or "more" is noted in the request's
history; a link whose assignment is another request's, a tampered or expired one: 404."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET

from mienskip_intake.adapters import past_records as past
from mienskip_intake.adapters import tables as t
from mienskip_shared.links import sign_follow_up_link

WEEK = timedelta(days=7)


@pytest.fixture
def two_requests(intake, kamer_a):
    created = datetime.now(UTC) - timedelta(days=6)
    with intake.engine.begin() as tx:
        volunteer = past.add_volunteer(tx, kamer_a.id, "leeuwarden", created - timedelta(days=90))
        first = past.add_request(tx, kamer_a.id, "leeuwarden", "shopping", created,
                                 [("proposed", created), ("approved", created), ("accepted", created)],
                                 volunteer_id=volunteer, resident="Durk Postma")
        other = past.add_request(tx, kamer_a.id, "leeuwarden", "garden", created,
                                 [("proposed", created), ("approved", created), ("accepted", created)],
                                 volunteer_id=volunteer)
        tx.execute(t.requests.update().where(t.requests.c.id == first[0]).values(resident_language="fy"))
    return first, other


def _link(request_id, assignment_id, expires=None):
    return sign_follow_up_link(TEST_SECRET, request_id, assignment_id, expires or datetime.now(UTC) + WEEK)


def _check(page) -> str:
    return re.search(r'name="check" value="([0-9a-f]+)"', page.get_data(as_text=True))[1]


def _history_notes(intake, request_id):
    with intake.engine.begin() as tx:
        return [(row.note_code, row.note_params) for row in tx.execute(
            t.history.select().where(t.history.c.request_id == request_id, t.history.c.note_code.is_not(None)))]


def test_the_resident_answers_once_in_their_language(client, intake, two_requests):
    (request_id, assignment_id), _ = two_requests
    token = _link(request_id, assignment_id)
    page = client.get(f"/f/{token}")
    assert page.status_code == 200 and 'lang="fy"' in page.get_data(as_text=True)
    assert 'name="answer" value="more"' in page.get_data(as_text=True)
    sent = client.post(f"/f/{token}", data={"check": _check(page), "answer": "more", "text": "Ek de tún graach"})
    assert sent.status_code == 303
    again = client.post(f"/f/{token}", data={"check": _check(page), "answer": "yes"})
    assert again.status_code == 303
    with intake.engine.begin() as tx:
        rows = tx.execute(t.follow_ups.select()).all()
    assert [(r.request_id, r.answer, r.text) for r in rows] == [(request_id, "more", "Ek de tún graach")]
    assert _history_notes(intake, request_id) == [("follow_up_answered", {"answer": "more"})]
    shown = client.get(f"/f/{token}?lang=en")
    assert shown.status_code == 200 and 'data-answered="more"' in shown.get_data(as_text=True)
    assert 'name="answer"' not in shown.get_data(as_text=True) and 'lang="en"' in shown.get_data(as_text=True)


def test_a_yes_stays_off_the_history(client, intake, two_requests):
    (request_id, assignment_id), _ = two_requests
    token = _link(request_id, assignment_id)
    client.post(f"/f/{token}", data={"check": _check(client.get(f"/f/{token}")), "answer": "yes"})
    assert _history_notes(intake, request_id) == []
    with intake.engine.begin() as tx:
        assert tx.execute(t.follow_ups.select()).one().answer == "yes"


def test_a_link_for_another_requests_assignment_finds_nothing(client, intake, two_requests):
    (request_id, _), (_, other_assignment) = two_requests
    token = _link(request_id, other_assignment)
    assert client.get(f"/f/{token}").status_code == 404
    good = _link(*two_requests[0])
    check = _check(client.get(f"/f/{good}"))
    assert client.post(f"/f/{token}", data={"check": check, "answer": "no"}).status_code in (403, 404)
    with intake.engine.begin() as tx:
        assert tx.execute(t.follow_ups.select()).all() == []


def test_tampered_expired_or_unchecked_answers_are_refused(client, intake, two_requests):
    (request_id, assignment_id), _ = two_requests
    expired = _link(request_id, assignment_id, datetime.now(UTC) - timedelta(minutes=1))
    assert client.get(f"/f/{expired}").status_code == 404
    token = _link(request_id, assignment_id)
    assert client.get(f"/f/{token[:-2]}xx").status_code == 404
    assert client.post(f"/f/{token}", data={"check": "0" * 64, "answer": "no"}).status_code == 403
    check = _check(client.get(f"/f/{token}"))
    assert client.post(f"/f/{token}", data={"check": check, "answer": "maybe"}).status_code == 400
    with intake.engine.begin() as tx:
        assert tx.execute(t.follow_ups.select()).all() == []


def test_erasing_the_resident_takes_their_words_and_the_page(client, intake, two_requests):
    from intake_support import uow

    from mienskip_intake.domain.commands import EraseResident
    from mienskip_intake.service_layer import privacy

    (request_id, assignment_id), _ = two_requests
    token = _link(request_id, assignment_id)
    client.post(f"/f/{token}", data={"check": _check(client.get(f"/f/{token}")), "answer": "no",
                                     "text": "Durk wachte de hiele middei"})
    privacy.erase_resident(EraseResident(request_id), uow(intake.engine))
    with intake.engine.begin() as tx:
        row = tx.execute(t.follow_ups.select()).one()
    assert (row.answer, row.text) == ("no", None)  # the answer still counts; their words are gone
    assert client.get(f"/f/{token}").status_code == 404
