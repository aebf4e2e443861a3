"""A local stand-in for PDOK Locatieserver (never the internet): an ``http.server``
thread answering ``/bzk/locatieserver/search/v3_1/free`` in PDOK's documented shape
(``response.docs[0]`` with ``centroide_ll`` = ``POINT(lon lat)``), or failing as told."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from mienskip_intake.adapters.geocoders import PDOK_SEARCH

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


def serve_fake_pdok():
    """Start a :class:`FakePdok`; returns it (``.url``) and a function that stops it."""
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

    def stop():
        fake.release.set()
        server.shutdown()
        server.server_close()

    return fake, stop
