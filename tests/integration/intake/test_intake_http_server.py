"""Issue 18, defect 7, over a real socket (the server ``mienskip serve`` runs): a chunked
body over 64 KiB is a 413 and a 100 KB header a 431, both JSON in API.md's shape,
where they were a 400 and werkzeug's HTML page."""

from __future__ import annotations

import json
import socket
import threading

import pytest
from intake_support import Kamer

from mienskip_intake.bootstrap import http_server


@pytest.fixture
def server(intake):
    server = http_server("127.0.0.1", 0, intake.wsgi_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _exchange(server, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.server_port), timeout=10) as conn:
        conn.sendall(raw)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def _chunked(body: bytes, size: int = 8192) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_a_chunked_body_over_64_kib_is_a_json_413(server, intake):
    kamer = Kamer(intake.engine, "Buurtkamer Bilgaard")
    body = json.dumps({"notes": "x" * 70_000}).encode()
    status, headers, answer = _exchange(server, (
        b"POST /v1/requests HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nAuthorization: Bearer " + kamer.token.encode() + b"\r\n\r\n") + _chunked(body))
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(answer)["code"] == "body_too_large"
    small = json.dumps({"resident": {"name": "Jan"}}).encode()  # under the limit: read, and judged on its fields
    status, _, answer = _exchange(server, (
        b"POST /v1/requests/validate HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nAuthorization: Bearer " + kamer.token.encode() + b"\r\n\r\n") + _chunked(small))
    assert status == 422 and "category" in json.loads(answer)["errors"]


def test_a_100_kb_header_is_a_json_431(server):
    status, headers, answer = _exchange(server, b"GET /v1/requests/x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                                                b"X-Padding: " + b"a" * 100_000 + b"\r\n\r\n")
    assert status == 431 and headers["content-type"] == "application/json"
    assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
    assert json.loads(answer) == {"code": "headers_too_large", "message": "Headers van het verzoek te groot"}
