"""Issue 18, defects 3, 4 (windows), 5 and 7: what a hostile or careless client sent and
got a 500, an unbounded window or a cacheable answer for. Each test names the defect;
every one runs on SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import Kamer
from sqlalchemy import func, select
from ui_support import bearer_token, sign_in

from mienskip_intake.adapters import tables as t

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


def body(**changes) -> dict:
    data = {"resident": {"name": "Wytske Terpstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "buddy",
            "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
    data.update(changes)
    return data


def stored_requests(engine) -> int:
    with engine.begin() as tx:
        return tx.execute(select(func.count()).select_from(t.requests)).scalar_one()


def post_raw(client, path: str, raw: str | bytes, kamer: Kamer, **headers):
    return client.post(path, data=raw, headers={**kamer.headers, "Content-Type": "application/json", **headers})


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    answer = response.get_json()
    assert set(answer) >= {"code", "message"}
    if field is not None:
        assert field in answer["errors"], answer
    return answer


# -- defect 3: a 500 for something a client sent ------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/requests", "/v1/requests/validate", "/v1/volunteers"])
@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_a_400_not_a_500(client, intake, kamer_a, path, depth):
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        raw = opener * depth + "1" + closer * depth
        if len(raw) > 64 * 1024:
            raw = opener * depth  # unterminated: the depth is found before the end is missed
        answer = assert_error(post_raw(client, path, raw, kamer_a), 400 if len(raw) <= 64 * 1024 else 413)
        assert answer["code"] in ("malformed_json", "body_too_large")
    assert stored_requests(intake.engine) == 0


def test_a_strangers_body_is_not_parsed_they_get_a_401(client):
    answer = client.post("/v1/requests", data="[" * 5_000, headers={"Content-Type": "application/json"})
    assert assert_error(answer, 401)["code"] == "unauthorized"


def test_an_integer_of_more_than_4300_digits_is_a_400(client, intake, kamer_a):
    for path in ("/v1/requests", "/v1/volunteers"):
        raw = json.dumps(body())[:-1] + ', "urgency": ' + "9" * 5_000 + "}"
        assert assert_error(post_raw(client, path, raw, kamer_a), 400)["code"] == "malformed_json"
    assert stored_requests(intake.engine) == 0


def test_a_body_that_is_not_utf8_is_a_400(client, kamer_a):
    assert_error(post_raw(client, "/v1/requests", b'{"notes": "\xff\xfe"}', kamer_a), 400)


@pytest.mark.parametrize("hostile", ["\ud800", "a\udfffb", "a\x00b", "Wyt\x07ske", "a\x1bb", "\x7f", "a\u0085b"])
@pytest.mark.parametrize("path", ["/v1/requests/validate", "/v1/requests"])
def test_surrogates_and_control_characters_are_a_422_naming_the_field(client, intake, kamer_a, hostile, path):
    for field, changed in (("resident.name", body(resident={"name": hostile})),
                           ("resident.address", body(resident={"name": "Jan", "address": hostile})),
                           ("notes", body(notes=hostile)),
                           ("follows", body(recurrence="weekly", follows=hostile))):
        raw = json.dumps(changed)  # json.dumps writes a lone surrogate as the escape \\ud800
        assert_error(post_raw(client, path, raw, kamer_a), 422, field)
    assert stored_requests(intake.engine) == 0


def test_an_unknown_field_named_with_a_lone_surrogate_is_said_back_escaped(client, intake, kamer_a):
    """Found by the property test: the 422 naming the field failed to encode as UTF-8 (a 500)."""
    raw = json.dumps(body())[:-1] + ', "\\ud800' + "x" * 500 + '": 1}'
    errors = assert_error(post_raw(client, "/v1/requests", raw, kamer_a), 422)["errors"]
    assert list(errors) == ["\\ud800" + "x" * 99 + "…"]  # cut at 100 characters
    assert stored_requests(intake.engine) == 0


def test_free_text_keeps_tabs_and_line_breaks_and_names_keep_every_plane(client, intake, kamer_a):
    answer = client.post("/v1/requests", json=body(notes="Hond\tuitlaten,\r\nrustige herder 🐕",
                                                   resident={"name": "Ŵŷtske 𝔗erpstra 中文 عربي"}),
                         headers=kamer_a.headers)
    assert answer.status_code == 202, answer.get_json()
    shown = client.get(f"/v1/requests/{answer.get_json()['id']}", headers=kamer_a.headers).get_json()
    assert shown["resident"]["name"] == "Ŵŷtske 𝔗erpstra 中文 عربي"
    assert_error(client.post("/v1/requests", json=body(resident={"name": "Jan\nHoekstra"}), headers=kamer_a.headers),
                 422, "resident.name")


def test_every_string_field_of_a_volunteer_refuses_control_characters(client, intake, kamer_a):
    good = {"name": "Anna de Vries", "email": "anna@example.org", "phone": "+31612345678", "home": {"lat": 53.2,
            "lon": 5.8}, "skills": ["buddy"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}
    assert client.post("/v1/volunteers", json=good, headers=kamer_a.headers).status_code == 201
    for field, value in (("name", "Anna\x00"), ("email", "anna\x00@example.org"), ("phone", "+31612345678\n"),
                         ("availability.0.from", "09:00\n"), ("availability.0.to", "12:00\x00")):
        changed = json.loads(json.dumps(good))
        if field.startswith("availability"):
            changed["availability"][0][field.rsplit(".", 1)[1]] = value
        else:
            changed[field] = value
        assert_error(client.post("/v1/volunteers", json=changed, headers=kamer_a.headers), 422, field)


def test_ids_in_the_path_and_the_idempotency_key_with_a_nul_are_refused_not_a_500(client, kamer_a):
    for path in ("/v1/requests/a%00b", "/v1/volunteers/%00", "/v1/requests/%ED%A0%80"):
        assert_error(client.get(path, headers=kamer_a.headers), 404)
    assert_error(client.post("/v1/requests/a%00b/cancel", headers=kamer_a.headers), 404)
    answer = client.post("/v1/requests", json=body(), headers={**kamer_a.headers, "Idempotency-Key": "k\x00ey"})
    assert_error(answer, 422, "Idempotency-Key")


def _cursor(*parts) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


@pytest.mark.parametrize("cursor", [
    _cursor("2026-01-01T00:00:00", "x"),  # no offset
    _cursor("0001-01-01T00:00:00+14:00", "x"),  # overflows on the way to UTC
    _cursor("9999-12-31T23:59:59-14:00", "x"),
    _cursor("2026-01-01T00:00:00+00:00", "a\x00b"),
    _cursor("2026-01-01T00:00:00+00:00", 12),
    _cursor(5, "x"),
    "not base64 at all \x00",
])
def test_a_cursor_not_from_this_api_is_a_422_on_cursor(client, kamer_a, cursor):
    assert_error(client.get("/v1/assignments", query_string={"cursor": cursor}, headers=kamer_a.headers),
                 422, "cursor")


@pytest.mark.parametrize("start, end", [
    ("0001-01-01T00:00:00+14:00", (SOON + timedelta(hours=1)).isoformat()),  # before year 1 in UTC
    ("0001-01-01T00:00:00+00:00", (SOON + timedelta(hours=1)).isoformat()),
    ("9999-12-31T23:00:00-14:00", "9999-12-31T23:30:00-14:00"),  # after year 9999 in UTC
    ("9999-12-01T10:00:00+01:00", "9999-12-01T11:00:00+01:00"),  # dead-lettered by matching before
], ids=["year-1+14:00", "year-1+00:00", "year-9999-14:00", "year-9999+01:00"])  # ids without SOON's clock time
@pytest.mark.parametrize("path", ["/v1/requests/validate", "/v1/requests"])
def test_a_window_at_the_ends_of_the_calendar_is_a_422_on_window_start(client, intake, kamer_a, start, end, path):
    assert_error(client.post(path, json=body(window={"start": start, "end": end}), headers=kamer_a.headers),
                 422, "window.start")
    assert stored_requests(intake.engine) == 0


def test_a_sign_in_page_with_cr_lf_in_next_goes_to_the_default(web_client, coordinator):
    token = bearer_token(coordinator)
    for hostile in ("/review/\r\nSet-Cookie: x=1", "/review/\nx", "/review/\x00", "/review/\t", "/review/ é"):
        fresh = web_client()
        answer = sign_in(fresh, token, next=hostile)
        assert answer.status_code == 303 and answer.headers["Location"] == "/review/", answer.headers
        again = fresh.get("/review/login", query_string={"next": hostile})  # signed in: straight on
        assert again.status_code == 302 and again.headers["Location"] == "/review/"
    fine = web_client()
    assert sign_in(fine, token, next="/review/map?zoom=city").headers["Location"] == "/review/map?zoom=city"


@pytest.fixture
def web_client(intake):
    return intake.wsgi_app.test_client


# -- defect 4: windows within a year ---------------------------------------------------------------

def test_a_window_more_than_a_year_ahead_is_refused(client, intake, kamer_a):
    far = datetime.now(UTC).replace(microsecond=0) + timedelta(days=367)
    answer = client.post("/v1/requests", json=body(window={"start": far.isoformat(),
                                                           "end": (far + timedelta(hours=1)).isoformat()}),
                         headers=kamer_a.headers)
    assert assert_error(answer, 422, "window.start")["errors"]["window.start"] == ["lies more than a year ahead"]
    near = datetime.now(UTC).replace(microsecond=0) + timedelta(days=360)
    assert client.post("/v1/requests", json=body(window={"start": near.isoformat(),
                                                         "end": (near + timedelta(hours=1)).isoformat()}),
                       headers=kamer_a.headers).status_code == 202


def test_a_window_ends_within_a_week_of_its_start_weekly_or_not(client, intake, kamer_a):
    for recurrence in (None, "weekly"):
        week_on = body(recurrence=recurrence, window={"start": SOON.isoformat(),
                                                     "end": (SOON + timedelta(days=7)).isoformat()})
        assert_error(client.post("/v1/requests/validate", json=week_on, headers=kamer_a.headers), 422, "window.end")
    long_ago = (datetime.now(UTC) - timedelta(days=8)).replace(microsecond=0)
    started = body(window={"start": long_ago.isoformat(), "end": SOON.isoformat()})
    assert_error(client.post("/v1/requests/validate", json=started, headers=kamer_a.headers), 422, "window.start")
    assert stored_requests(intake.engine) == 0


# -- defect 5: personal data cacheable -------------------------------------------------------------

JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"}


def test_api_answers_are_never_cached_or_sniffed_errors_included(client, intake, kamer_a):
    submitted = client.post("/v1/requests", json=body(), headers=kamer_a.headers)
    answers = [submitted, client.get(f"/v1/requests/{submitted.get_json()['id']}", headers=kamer_a.headers),
               client.get("/v1/volunteers/nobody", headers=kamer_a.headers), client.get("/v1/requests/x"),
               post_raw(client, "/v1/requests", "[" * 2_000, kamer_a), client.delete("/v1/requests/x")]
    for answer in answers:
        for name, value in JSON_HEADERS.items():
            assert answer.headers.get(name) == value, (answer.status_code, name, dict(answer.headers))


# -- defect 7: smaller ones -------------------------------------------------------------------------

def test_numbers_as_strings_are_refused_for_floats_and_integers_alike(client, kamer_a):
    answer = client.post("/v1/requests/validate", json=body(location={"lat": "53.2", "lon": 5.8}),
                         headers=kamer_a.headers)
    assert assert_error(answer, 422, "location.lat")["errors"]["location.lat"] == ["must be a number"]
    volunteer = {"name": "Anna", "home": {"lat": 53.2, "lon": 5.8}, "skills": ["buddy"], "availability": [],
                 "max_tasks_per_week": "2", "max_distance_km": "10"}
    errors = assert_error(client.post("/v1/volunteers", json=volunteer, headers=kamer_a.headers), 422)["errors"]
    assert errors["max_tasks_per_week"] == ["must be a number"] and errors["max_distance_km"] == ["must be a number"]
    volunteer.update(max_tasks_per_week=True, max_distance_km=False)
    errors = assert_error(client.post("/v1/volunteers", json=volunteer, headers=kamer_a.headers), 422)["errors"]
    assert "max_tasks_per_week" in errors and "max_distance_km" in errors  # a boolean is no number either
