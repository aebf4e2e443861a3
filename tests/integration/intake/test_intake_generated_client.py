"""A client generated from ``/openapi.json`` by openapi-python-client (as a kamer's own
system would make one) runs the whole flow and parses every answer: the spec types what
the API sends (a window's times as ISO 8601 with offset, not an untyped object)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from ui_support import propose_with_explanation, request_body, volunteer_body

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "mienskip_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The client package, generated once from the app's own spec."""
    from mienskip_intake.bootstrap import build
    from mienskip_intake.settings import Settings

    base = tmp_path_factory.mktemp("generated")
    service = build(Settings.from_env({}, database_url=f"sqlite:///{base / 'spec.sqlite3'}", broker_url="memory://",
                                      data_dir=base, secret_key="spec-only-" + "x" * 32), with_workers=False)
    try:
        spec = service.wsgi_app.test_client().get("/openapi.json").get_json()
    finally:
        service.dispose()
    (base / "openapi.json").write_text(json.dumps(spec))
    made = subprocess.run([str(GENERATOR), "generate", "--path", str(base / "openapi.json"), "--output-path",
                           str(base / PACKAGE), "--meta", "none"], capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    sys.path.insert(0, str(base))
    try:
        yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    finally:
        sys.path.remove(str(base))
        for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
            del sys.modules[name]


def _client(generated, intake, headers):
    token = headers["Authorization"].split(" ", 1)[1]
    return generated("client").AuthenticatedClient(
        base_url="http://intake.test", token=token,
        httpx_args={"transport": httpx.WSGITransport(app=intake.wsgi_app)})


def _call(generated, operation: str, client, expect: int, **kwargs):
    """One operation through the generated client: the answer's status, and its body parsed
    into the generated model (a field the spec does not describe would fail here)."""
    answer = generated(f"api.v1.{operation}").sync_detailed(client=client, **kwargs)
    assert answer.status_code == expect, answer.content
    assert answer.parsed is not None and type(answer.parsed).__name__ != "ApiError", answer.content
    answer.parsed.to_dict()  # and back: every typed field survived the round trip
    return answer.parsed


def test_a_generated_client_runs_the_flow_and_parses_every_answer(generated, intake, kamer_a, coordinator):
    models = generated("models")
    kamer = _client(generated, intake, kamer_a.headers)
    region = _client(generated, intake, coordinator)

    volunteer = _call(generated, "post_v1_volunteers", kamer, 201, body=models.Volunteer.from_dict(volunteer_body()))
    shown = _call(generated, "get_v1_volunteers_volunteer_id", kamer, 200, volunteer_id=volunteer.id)
    assert isinstance(shown.created_at, datetime) and shown.created_at.tzinfo is not None
    accepted = _call(generated, "post_v1_requests", kamer, 202, body=models.Request.from_dict(request_body()))
    assignment_id = propose_with_explanation(intake.engine, accepted.id, volunteer.id, kamer_id=kamer_a.id)

    page = _call(generated, "get_v1_assignments", kamer, 200)
    [item] = [i for i in page.items if i.id == assignment_id]
    assert isinstance(item.request.window.start, datetime) and item.request.window.start.tzinfo is not None
    assert item.request.window.end > item.request.window.start
    request = _call(generated, "get_v1_requests_request_id", kamer, 200, request_id=accepted.id)
    assert isinstance(request.window.start, datetime) and request.window.start.utcoffset() is not None
    assert request.history and all(isinstance(h.at, datetime) for h in request.history)

    _call(generated, "post_v1_assignments_assignment_id_approve", kamer, 200, assignment_id=assignment_id)
    _call(generated, "post_v1_assignments_assignment_id_accept", kamer, 200, assignment_id=assignment_id,
          body=models.OptionalReason.from_dict({}))
    audit = _call(generated, "get_v1_audit", region, 200)
    assert audit.items and all(isinstance(entry.at, datetime) for entry in audit.items)
    after = _call(generated, "get_v1_assignments", region, 200, status=models.GetV1AssignmentsStatusType1("accepted"))
    assert [i.id for i in after.items] == [assignment_id]


def test_a_generated_client_submits_by_address_and_lists_requests(generated, intake, kamer_a):
    models = generated("models")
    kamer = _client(generated, intake, kamer_a.headers)
    body = request_body()
    del body["location"]
    body["address"] = {"postcode": "9001 AB", "house_number": "3", "addition": "a"}
    accepted = _call(generated, "post_v1_requests", kamer, 202, body=models.Request.from_dict(body))
    shown = _call(generated, "get_v1_requests_request_id", kamer, 200, request_id=accepted.id)
    assert shown.location.precision == "postcode4" and shown.location.lat == 53.09276
    page = _call(generated, "get_v1_requests", kamer, 200, q="hoek")
    [item] = page.items
    assert item.id == accepted.id and item.window.start.utcoffset() is not None
    assert item.created_at.tzinfo is not None


def test_times_in_the_assignment_list_are_iso_8601_with_an_offset(client, intake, kamer_a):
    """What the trial saw: ``"Fri, 11 Dec 2026 15:00:00 GMT"``."""
    request_id = client.post("/v1/requests", json=request_body(), headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=volunteer_body(), headers=kamer_a.headers).get_json()["id"]
    propose_with_explanation(intake.engine, request_id, volunteer_id, kamer_id=kamer_a.id)
    [item] = client.get("/v1/assignments", headers=kamer_a.headers).get_json()["items"]
    for value in (item["request"]["window"]["start"], item["request"]["window"]["end"], item["created_at"]):
        assert datetime.fromisoformat(value).utcoffset() is not None, value
