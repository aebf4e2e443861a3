"""Issue 18, defect 5: every route of the app, page or API, answers with the cache and
security headers its kind needs, whoever calls and whatever the outcome (errors too).
The routes are read from the app's url_map, so a new one is covered the day it is added."""

from __future__ import annotations

import re

import pytest
from intake_support import Kamer
from ui_support import bearer_token, sign_in

from mienskip_intake.entrypoints.guards import JSON_ANSWER_HEADERS
from mienskip_intake.entrypoints.web import SECURITY_HEADERS


def _expected(endpoint: str) -> dict[str, str]:
    """Pages are the ``review`` blueprint's endpoints (review, desk, account, volunteer links)."""
    if endpoint == "review.static":  # the pages' CSS and script: nothing personal, so a browser may keep them
        return {name: value for name, value in SECURITY_HEADERS.items() if name != "Cache-Control"}
    return SECURITY_HEADERS if endpoint.startswith("review.") else JSON_ANSWER_HEADERS


def _url(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "review.css" if m.group(1) == "filename" else "x", rule)


def _calls(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule, rule.endpoint


def test_every_route_answers_with_the_headers_of_its_kind(intake, coordinator):
    app = intake.wsgi_app
    calls = list(_calls(app))
    assert len(calls) >= 30, calls  # the whole map: API, pages, health, metrics, openapi
    kamer = Kamer(intake.engine, "Buurtkamer Bilgaard")
    browser = app.test_client()
    sign_in(browser, bearer_token(coordinator))
    callers = {"anonymous": (app.test_client(), {}), "kamer token": (app.test_client(), kamer.headers),
               "coordinator session": (browser, {})}
    checked = 0
    for method, rule, endpoint in calls:
        expected = _expected(endpoint)
        for who, (client, headers) in callers.items():
            answer = client.open(_url(rule), method=method, headers=headers, json={} if method != "GET" else None)
            assert answer.status_code < 500, (method, rule, who, answer.status_code)
            for name, value in expected.items():
                assert answer.headers.get(name) == value, (method, rule, who, answer.status_code, name)
            assert answer.headers.get("X-Content-Type-Options") == "nosniff"
            checked += 1
    print(f"headers checked on {checked} answers over {len(calls)} routes")


@pytest.mark.parametrize("path", ["/nowhere", "/v1/nowhere", "/review/nowhere"])
def test_unknown_addresses_carry_the_headers_too(client, path):
    answer = client.get(path)
    assert answer.status_code in (401, 404)  # /v1: who asks is checked before what
    for name in ("Cache-Control", "X-Content-Type-Options"):
        assert answer.headers.get(name) == JSON_ANSWER_HEADERS[name], (path, name)
