"""The PDOK adapter against a local HTTP server answering in PDOK Locatieserver's
documented shape (``response.docs[0]`` with ``centroide_ll`` = ``POINT(lon lat)``):
never the internet. Its errors (5xx, timeout, not JSON, no docs) and its cache."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from mienskip_intake.adapters.geocoders import PDOK_SEARCH, PdokGeocoder
from mienskip_intake.domain.addresses import DutchAddress, Precision
from mienskip_intake.service_layer.geocoding import GeocoderUnavailable, UnknownAddress

GROU = {
    "type": "adres", "weergavenaam": "Tsjerkepaed 3A, 9001AB Grou", "straatnaam": "Tsjerkepaed",
    "huisnummer": 3, "huisletter": "A", "postcode": "9001AB", "woonplaatsnaam": "Grou",
    "gemeentenaam": "Leeuwarden", "provincienaam": "Fryslân", "centroide_ll": "POINT(5.83712 53.09411)",
    "centroide_rd": "POINT(180000.1 566000.2)", "id": "adr-1", "score": 14.2,
}


class FakePdok:
    """What the server answers next: ``mode`` is ok, empty, error, slow, garbage or shape."""

    def __init__(self):
        self.mode = "ok"
        self.calls: list[dict[str, list[str]]] = []
        self.release = threading.Event()

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        self.calls.append(parse_qs(url.query))
        if url.path != PDOK_SEARCH:
            return self._send(handler, 404, b'{"message": "not found"}')
        if self.mode == "slow":
            self.release.wait(5)
        if self.mode == "error":
            return self._send(handler, 503, b"<html>Service Unavailable</html>")
        if self.mode == "garbage":
            return self._send(handler, 200, b"<html>not json</html>")
        if self.mode == "shape":
            return self._send(handler, 200, json.dumps({"docs": [GROU]}).encode())
        docs = [GROU] if self.mode == "ok" else []
        body = {"response": {"numFound": len(docs), "start": 0, "maxScore": 14.2, "numFoundExact": True,
                             "docs": docs}}
        return self._send(handler, 200, json.dumps(body).encode())

    @staticmethod
    def _send(handler, status, body):
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


@pytest.fixture
def pdok():
    fake = FakePdok()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fake.answer(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()


ADDRESS = DutchAddress.parse("9001 AB", "3", "a")


def test_a_known_address_is_exact_with_street_and_place(pdok):
    located = PdokGeocoder(pdok.url).locate(ADDRESS)
    assert (located.lat, located.lon) == (53.09411, 5.83712)  # POINT is lon then lat
    assert located.precision is Precision.EXACT
    assert (located.street, located.place, located.postcode) == ("Tsjerkepaed", "Grou", "9001 AB")
    assert pdok.calls == [{"q": ["9001AB 3 A"], "fq": ["type:adres"], "rows": ["1"]}]


def test_answers_are_cached(pdok):
    geocoder = PdokGeocoder(pdok.url)
    geocoder.locate(ADDRESS)
    pdok.mode = "error"
    assert geocoder.locate(ADDRESS).precision is Precision.EXACT
    assert len(pdok.calls) == 1


def test_no_docs_is_an_unknown_address_and_that_is_cached_too(pdok):
    pdok.mode = "empty"
    geocoder = PdokGeocoder(pdok.url)
    with pytest.raises(UnknownAddress):
        geocoder.locate(ADDRESS)
    with pytest.raises(UnknownAddress):
        geocoder.locate(ADDRESS)
    assert len(pdok.calls) == 1


def test_a_neighbouring_address_is_not_this_one(pdok):
    with pytest.raises(UnknownAddress):
        PdokGeocoder(pdok.url).locate(DutchAddress.parse("9001 AB", "5"))


@pytest.mark.parametrize("mode", ["error", "garbage", "shape"])
def test_a_server_error_or_a_malformed_answer_is_unavailable_and_not_cached(pdok, mode):
    pdok.mode = mode
    geocoder = PdokGeocoder(pdok.url)
    with pytest.raises(GeocoderUnavailable):
        geocoder.locate(ADDRESS)
    pdok.mode = "ok"
    assert geocoder.locate(ADDRESS).precision is Precision.EXACT


def test_a_slow_server_is_unavailable_after_the_timeout(pdok):
    pdok.mode = "slow"
    with pytest.raises(GeocoderUnavailable):
        PdokGeocoder(pdok.url, timeout_s=0.2).locate(ADDRESS)


def test_a_server_that_is_not_there_is_unavailable():
    with pytest.raises(GeocoderUnavailable):
        PdokGeocoder("http://127.0.0.1:9", timeout_s=0.5).locate(ADDRESS)
