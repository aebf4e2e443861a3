"""Requests given by their Dutch address (API.md, Additions): placed by the geocoder, with
the location's precision stored and returned; an unknown postcode is a 422 naming it; PDOK
away costs no request (202 on the postcode area, marked, upgraded later by the worker,
which tells matching). On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, Kamer, uow
from polling import eventually
from sqlalchemy import select

from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters.geocoders import build_lookup
from mienskip_intake.bootstrap import build
from mienskip_intake.domain.commands import EraseResident, LookUpExactLocations
from mienskip_intake.service_layer import locations, privacy
from mienskip_intake.settings import Settings
from mienskip_shared.contracts import parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
BY_ADDRESS = {
    "resident": {"name": "Durk Postma", "phone": "+31587123456", "language": "fy"},
    "address": {"postcode": "9001ab", "house_number": "3", "addition": "a"},
    "category": "pets",
    "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()},
}


def _body(**changes):
    body = copy.deepcopy(BY_ADDRESS)
    body.update(changes)
    return body


def _stored(engine, request_id):
    with engine.begin() as tx:
        return tx.execute(select(t.requests).where(t.requests.c.id == request_id)).one()


def _outbox(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox).where(t.outbox.c.event_type == event_type).order_by(t.outbox.c.id))
        return [parse(row.body) for row in rows]


# -- embedded (the default) --------------------------------------------------------------------
def test_an_address_is_placed_on_its_postcode_area_and_says_so(client, kamer_a):
    answer = client.post("/v1/requests", json=BY_ADDRESS, headers=kamer_a.headers)
    assert answer.status_code == 202, answer.json
    shown = client.get(f"/v1/requests/{answer.json['id']}", headers=kamer_a.headers).json
    assert shown["location"] == {"lat": 53.09276, "lon": 5.83689, "precision": "postcode4"}
    assert shown["resident"]["address"] == "3a, 9001 AB Grou"  # filled: the kamer gave no text


def test_the_kamers_own_address_text_stays(client, kamer_a, intake):
    body = _body(resident={**BY_ADDRESS["resident"], "address": "Tsjerkepaed 3a, Grou"})
    answer = client.post("/v1/requests", json=body, headers=kamer_a.headers)
    assert _stored(intake.engine, answer.json["id"]).resident_address == "Tsjerkepaed 3a, Grou"


def test_a_typed_location_is_given_precision_exactly_as_before(client, kamer_a, intake):
    body = _body(location={"lat": 53.2251, "lon": 5.7530})
    del body["address"]
    answer = client.post("/v1/requests", json=body, headers=kamer_a.headers)
    assert answer.status_code == 202
    shown = client.get(f"/v1/requests/{answer.json['id']}", headers=kamer_a.headers).json
    assert shown["location"] == {"lat": 53.2251, "lon": 5.7530, "precision": "given"}
    assert shown["resident"]["address"] is None
    [submitted] = _outbox(intake.engine, "request.submitted")
    assert submitted.data["location"] == {"lat": 53.225, "lon": 5.753}


def test_an_unknown_postcode_is_a_422_on_address_postcode(client, kamer_a):
    body = _body(address={"postcode": "1012 AB", "house_number": 1})
    answer = client.post("/v1/requests", json=body, headers=kamer_a.headers)
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == ["address.postcode"]


@pytest.mark.parametrize(("address", "field"), [
    ({"postcode": "0123 AB", "house_number": "1"}, "address.postcode"),
    ({"postcode": "9001 SS", "house_number": "1"}, "address.postcode"),
    ({"postcode": "9001 AB", "house_number": "0"}, "address.house_number"),
    ({"postcode": "9001 AB", "house_number": "3", "addition": "?!"}, "address.addition"),
    ({"postcode": "9001 AB"}, "address.house_number"),
    ({"postcode": "9001 AB", "house_number": "3", "street": "x"}, "address.street"),
])
def test_a_malformed_address_is_a_422_naming_its_part(client, kamer_a, address, field):
    answer = client.post("/v1/requests", json=_body(address=address), headers=kamer_a.headers)
    assert answer.status_code == 422
    assert field in answer.json["errors"]


def test_both_location_and_address_or_neither_is_a_422_naming_the_field(client, kamer_a):
    both = client.post("/v1/requests", json=_body(location={"lat": 53.2, "lon": 5.8}), headers=kamer_a.headers)
    assert both.status_code == 422 and "address" in both.json["errors"]
    neither = _body()
    del neither["address"]
    answer = client.post("/v1/requests", json=neither, headers=kamer_a.headers)
    assert answer.status_code == 422 and "location" in answer.json["errors"]


def test_validate_checks_the_address_too(client, kamer_a):
    unknown = client.post("/v1/requests/validate", json=_body(address={"postcode": "1012 AB", "house_number": 1}),
                          headers=kamer_a.headers)
    assert unknown.status_code == 422 and "address.postcode" in unknown.json["errors"]
    assert client.post("/v1/requests/validate", json=BY_ADDRESS, headers=kamer_a.headers).json == {"valid": True}


def test_the_same_idempotency_key_and_address_make_one_request(client, kamer_a, intake):
    headers = {**kamer_a.headers, "Idempotency-Key": "desk-1"}
    first = client.post("/v1/requests", json=BY_ADDRESS, headers=headers)
    again = client.post("/v1/requests", json=BY_ADDRESS, headers=headers)
    assert first.json == again.json
    assert len(_outbox(intake.engine, "request.submitted")) == 1


def test_openapi_describes_address_and_precision(client):
    spec = client.get("/openapi.json").json["components"]["schemas"]
    assert {"postcode", "house_number", "addition"} <= set(spec["Address"]["properties"])
    assert "address" in spec["Request"]["properties"]
    assert spec["Location"]["properties"]["precision"]


# -- PDOK -------------------------------------------------------------------------------------
def test_with_pdok_an_address_is_exact_with_its_street(pdok_intake, pdok):
    kamer = Kamer(pdok_intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    client = pdok_intake.wsgi_app.test_client()
    answer = client.post("/v1/requests", json=BY_ADDRESS, headers=kamer.headers)
    assert answer.status_code == 202
    shown = client.get(f"/v1/requests/{answer.json['id']}", headers=kamer.headers).json
    assert shown["location"] == {"lat": 53.09411, "lon": 5.83712, "precision": "exact"}
    assert shown["resident"]["address"] == "Tsjerkepaed 3a, 9001 AB Grou"
    assert _stored(pdok_intake.engine, answer.json["id"]).exact_lookup is None


def test_pdok_unknown_address_is_a_422_on_address_postcode(pdok_intake, pdok):
    pdok.mode = "empty"
    kamer = Kamer(pdok_intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    answer = pdok_intake.wsgi_app.test_client().post("/v1/requests", json=BY_ADDRESS, headers=kamer.headers)
    assert answer.status_code == 422 and "address.postcode" in answer.json["errors"]


@pytest.mark.parametrize("mode", ["error", "slow", "garbage"])
def test_pdok_away_costs_no_request_and_the_worker_makes_it_exact_later(pdok_intake, pdok, mode):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    client = pdok_intake.wsgi_app.test_client()
    pdok.mode = mode
    answer = client.post("/v1/requests", json=BY_ADDRESS, headers=kamer.headers)
    assert answer.status_code == 202, answer.json
    request_id = answer.json["id"]
    stored = _stored(engine, request_id)
    assert (stored.lat, stored.lon, stored.location_precision) == (53.09276, 5.83689, "postcode4")
    assert stored.exact_lookup == {"postcode": "9001 AB", "house_number": "3", "addition": "A", "fill_text": True}
    assert stored.resident_address == "3a, 9001 AB Grou"

    addresses = build_lookup("pdok", pdok.url, timeout_s=0.5)  # as bootstrap gives the worker

    # Still away: nothing changes, the mark stays.
    pdok.release.set()  # a slow answer still pending comes back now
    pdok.mode = "error"
    assert locations.look_up_exact_locations(LookUpExactLocations(), lambda: uow(engine), addresses) is False
    assert _stored(engine, request_id).exact_lookup is not None

    pdok.mode = "ok"
    locations.look_up_exact_locations(LookUpExactLocations(), lambda: uow(engine), addresses)
    stored = _stored(engine, request_id)
    assert (stored.lat, stored.lon, stored.location_precision) == (53.09411, 5.83712, "exact")
    assert stored.exact_lookup is None
    assert stored.resident_address == "Tsjerkepaed 3a, 9001 AB Grou"
    [relocated] = _outbox(engine, "request.relocated")
    assert relocated.data == {"request_id": request_id, "kamer_id": kamer.id, "region": "leeuwarden",
                              "location": {"lat": 53.094, "lon": 5.837}}
    contacts = _outbox(engine, "contact.resident")
    assert contacts[-1].data["address"] == "Tsjerkepaed 3a, 9001 AB Grou"
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer.headers).json
    assert shown["location"]["precision"] == "exact"
    assert shown["history"][-1]["note_code"] == "located_exactly"


def test_pdok_away_and_an_area_we_do_not_know_is_a_503_to_try_again(pdok_intake, pdok):
    pdok.mode = "error"
    kamer = Kamer(pdok_intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    answer = pdok_intake.wsgi_app.test_client().post(
        "/v1/requests", json=_body(address={"postcode": "1012 AB", "house_number": "1"}), headers=kamer.headers)
    assert answer.status_code == 503 and answer.headers["Retry-After"]


def test_a_cancelled_request_keeps_its_area_and_loses_the_mark(pdok_intake, pdok):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    client = pdok_intake.wsgi_app.test_client()
    pdok.mode = "error"
    request_id = client.post("/v1/requests", json=BY_ADDRESS, headers=kamer.headers).json["id"]
    client.post(f"/v1/requests/{request_id}/cancel", headers=kamer.headers)
    pdok.mode = "ok"
    locations.look_up_exact_locations(LookUpExactLocations(), lambda: uow(engine), build_lookup("pdok", pdok.url))
    stored = _stored(engine, request_id)
    assert stored.exact_lookup is None and stored.location_precision == "postcode4"
    assert _outbox(engine, "request.relocated") == []


def test_erasing_the_resident_drops_the_email_and_the_address_to_look_up(pdok_intake, pdok):
    engine = pdok_intake.engine
    kamer = Kamer(engine, "Dorpskamer Grou", 53.0946, 5.8374)
    pdok.mode = "error"
    body = _body(resident={**BY_ADDRESS["resident"], "email": "durk@example.org"})
    request_id = pdok_intake.wsgi_app.test_client().post("/v1/requests", json=body, headers=kamer.headers).json["id"]
    assert _stored(engine, request_id).resident_email == "durk@example.org"
    privacy.erase_resident(EraseResident(request_id), uow(engine))
    stored = _stored(engine, request_id)
    assert stored.resident_email is None and stored.exact_lookup is None and stored.resident_address is None


def test_bootstrap_runs_the_exact_lookup_worker_only_behind_an_outside_geocoder(database_url, tmp_path, pdok):
    embedded = build(Settings.from_env({}, database_url=database_url, broker_url="memory://",
                                       data_dir=tmp_path / "e", secret_key=TEST_SECRET))
    assert "intake-exact-lookup" not in [worker.name for worker in embedded.workers]
    embedded.dispose()
    service = build(Settings.from_env({}, database_url=database_url, broker_url="memory://", data_dir=tmp_path / "p",
                                      secret_key=TEST_SECRET, geocoder="pdok", geocoder_url=pdok.url,
                                      geocoder_timeout_s=0.5))
    try:
        kamer = Kamer(service.engine, "Dorpskamer Grou", 53.0946, 5.8374)
        pdok.mode = "error"
        request_id = service.wsgi_app.test_client().post("/v1/requests", json=BY_ADDRESS,
                                                         headers=kamer.headers).json["id"]
        pdok.mode = "ok"
        [worker] = [worker for worker in service.workers if worker.name == "intake-exact-lookup"]
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()  # its first round runs at once
        try:
            assert eventually(lambda: _stored(service.engine, request_id).location_precision == "exact", timeout=10)
        finally:
            stop.set()
            thread.join(timeout=10)
    finally:
        service.dispose()
