"""Property (issue 18): whatever body a client sends to any endpoint that takes one, the
answer is a 2xx, or a 4xx JSON error with nothing stored; never a 5xx. The endpoints
are read from the app's url_map (a new one is fuzzed the day it is added), their path
ids are real records, so each body reaches its schema and use case. On SQLite and on
PostgreSQL. The hostile values are ``tests/support/hostile.py``'s."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import hypothesis
import pytest
from hostile import TALLY, Body, count, extreme_dates, hostile_body, hostile_text
from hypothesis import strategies as st
from intake_support import Kamer, propose
from sqlalchemy import func, select

from mienskip_intake.adapters import tables as t

pytestmark = pytest.mark.slow

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
VOLUNTEER = {"name": "Anna de Vries", "email": "anna@example.org", "phone": "+31612345678", "language": "nl",
             "languages": ["nl", "fy"], "home": {"lat": 53.2012, "lon": 5.7999}, "skills": ["buddy", "transport"],
             "has_car": True, "vog_checked_on": "2026-03-01",
             "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}], "max_tasks_per_week": 3,
             "max_distance_km": 10}
REQUEST = {"resident": {"name": "Jan Hoekstra", "phone": "+31587123456", "language": "fy",
                        "address": "Tsjerkepaed 3, 9001 AB Grou"},
           "location": {"lat": 53.2251, "lon": 5.7530}, "category": "pets", "skills": ["pets"], "needs_vog": False,
           "needs_language": None,
           "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()},
           "recurrence": None, "urgency": "normal", "notes": "Hond uitlaten, rustige herder"}
VALID_BODIES = {  # a valid body per endpoint, the starting point of each mutation
    "/v1/volunteers": VOLUNTEER, "/v1/requests": REQUEST, "/v1/requests/validate": REQUEST,
    "/v1/requests/<request_id>/cancel": {"reason": "moved away"},
    "/v1/assignments/<assignment_id>/approve": {"reason": "fine"},
    "/v1/assignments/<assignment_id>/reject": {"reason": "too far"},
    "/v1/assignments/<assignment_id>/accept": {},
    "/v1/assignments/<assignment_id>/decline": {"reason": "ill"},
    "/v1/assignments/<assignment_id>/reassign": {"volunteer_id": "x"},
    "/v1/assignments/bulk-approve": {"ids": ["x"]},
    "/v1/kamers/<kamer_id>/auto-approve": {"categories": ["shopping"]},
    "/v1/volunteers/<volunteer_id>": {"name": "Anna de Vries", "max_tasks_per_week": 2,
                                      "away": [{"from": "2027-01-04", "to": "2027-01-08"}]},
}
WRITES = ("POST", "PUT", "PATCH")
EXAMPLES = 60  # per endpoint and database: about 8 s on SQLite, 12 s on PostgreSQL (alone)


# every table's row count in one statement: one round trip per look, not one per table
COUNTS = select(*[select(func.count()).select_from(table).scalar_subquery().label(table.name)
                  for table in t.metadata.sorted_tables])


def _counts(engine) -> dict[str, int]:
    with engine.begin() as tx:
        return dict(tx.execute(COUNTS).one()._mapping)


def _states(engine) -> tuple:
    with engine.begin() as tx:
        return (tuple(tx.execute(select(t.requests.c.id, t.requests.c.status).order_by(t.requests.c.id)).all()),
                tuple(tx.execute(select(t.assignments.c.id, t.assignments.c.status)
                                 .order_by(t.assignments.c.id)).all()))


def _fuzz(client, engine, name: str, method: str, rule: str, path: str, headers: dict) -> None:
    @hypothesis.given(body=hostile_body(VALID_BODIES.get(rule, {})), idempotency=st.booleans())
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def fuzz(body: Body, idempotency: bool):
        before, states = _counts(engine), _states(engine)
        sent = {**headers, **({"Idempotency-Key": body.what[:200]} if idempotency else {})}
        answer = client.open(path, method=method, data=body.data, headers=sent)
        count(name, answer.status_code)
        where = f"{method} {rule} with {body.what}: {answer.status_code} {answer.get_data(as_text=True)[:300]}"
        assert answer.status_code < 500, where
        if answer.status_code >= 400:
            error = json.loads(answer.get_data())
            assert answer.mimetype == "application/json" and error["code"] and error["message"], where
            assert _counts(engine) == before and _states(engine) == states, "stored on refusal: " + where

    fuzz()


def test_hostile_bodies_get_a_4xx_json_error_and_store_nothing(intake, client, coordinator, request):
    engine = intake.engine
    kamer = Kamer(engine, "Buurtkamer Bilgaard")
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer.headers).get_json()["id"]
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer.headers).get_json()["id"]
    assignment_id = propose(engine, request_id, volunteer_id)
    ids = {"request_id": request_id, "assignment_id": assignment_id, "kamer_id": kamer.id,
           "volunteer_id": volunteer_id}
    routes = sorted({(rule.rule, method) for rule in intake.wsgi_app.url_map.iter_rules()
                     if rule.rule.startswith("/v1") for method in rule.methods & set(WRITES)})
    assert set(VALID_BODIES) <= {rule for rule, _ in routes}  # a new endpoint is fuzzed from {} until it gets one
    name = f"hostile bodies, {request.node.callspec.id}"

    for rule, method in routes:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: ids.get(m.group(1), "x"), rule)
        headers = {**(coordinator if rule.startswith("/v1/kamers") else kamer.headers),
                   "Content-Type": "application/json"}
        _fuzz(client, engine, name, method, rule, path, headers)
    cases, errors = TALLY[name]
    print(f"{name}: {cases} hostile cases, {errors} 5xx")
    assert cases >= EXAMPLES * len(routes) * 0.9 and errors == 0


QUERIES = {"/v1/assignments": ("status", "limit", "cursor"), "/v1/audit": ("subject_id", "limit")}


def _fuzz_query(client, headers: dict, name: str, path: str, names: tuple[str, ...]) -> None:
    values = st.one_of(hostile_text, extreme_dates, st.integers().map(str), st.text(max_size=600),
                       st.binary(max_size=60).map(lambda raw: base64.urlsafe_b64encode(raw).decode()))

    @hypothesis.given(query=st.dictionaries(st.sampled_from(names), values, min_size=1))
    @hypothesis.settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(hypothesis.HealthCheck))
    def fuzz(query):
        # as a client's bytes would arrive: a lone surrogate as the bytes that spell it
        sent = {key: value.encode("utf-8", "surrogatepass").decode("latin-1") for key, value in query.items()}
        answer = client.get(path, query_string=sent, headers=headers)
        count(name, answer.status_code)
        assert answer.status_code < 500, f"{path} {query!r}: {answer.get_data(as_text=True)[:300]}"
        if answer.status_code >= 400:
            assert answer.mimetype == "application/json" and answer.get_json()["code"]

    fuzz()


def test_hostile_query_strings_get_a_4xx_json_error_never_a_5xx(client, coordinator, request):
    name = f"hostile queries, {request.node.callspec.id}"
    for path, names in QUERIES.items():
        _fuzz_query(client, coordinator, name, path, names)
    print(f"{name}: {TALLY[name][0]} hostile cases, {TALLY[name][1]} 5xx")
    assert TALLY[name][1] == 0
