"""notify's integration fixtures: a migrated database, a mailbox, and a real HTTP
server on 127.0.0.1 standing in for a kamer's webhook endpoint or an SMS gateway."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mienskip_notify.adapters.senders import MailboxSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import MIGRATIONS, VERSION_TABLE
from mienskip_shared.db import make_engine, upgrade


def _migrated(url):
    engine = make_engine(url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url):
    yield from _migrated(database_url)


@pytest.fixture
def pg_engine(postgres_url):
    """Always PostgreSQL: for what needs two writers at once."""
    yield from _migrated(postgres_url)


@pytest.fixture
def uow(engine):
    """notify's unit of work on ``engine``: one transaction per ``with``, reusable."""
    return NotifyUnitOfWork(engine)


@pytest.fixture
def mailbox(tmp_path):
    return MailboxSender(tmp_path / "mailbox")


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class HttpSink:
    """Keeps every POST; answers with the next scripted status, then ``default_status``."""

    def __init__(self):
        self.received: list[Received] = []
        self.statuses: deque[int] = deque()
        self.default_status = 204
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 -- http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._lock:
                    sink.received.append(Received(self.path, dict(self.headers), body))
                    status = sink.statuses.popleft() if sink.statuses else sink.default_status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> HttpSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def http_sink():
    sink = HttpSink().start()
    yield sink
    sink.stop()
