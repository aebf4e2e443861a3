"""Fixtures shared by every test layer.

Real servers: ``postgres_url`` and ``rabbit_url`` give each test its own fresh
PostgreSQL database and RabbitMQ virtual host. Without the servers those tests skip
with the reason; with ``MIENSKIP_REQUIRE_SERVICES=1`` (CI) they fail instead.

Which servers: ``MIENSKIP_TEST_PG_HOST``/``MIENSKIP_TEST_PG_ADMIN_URL``, and
``MIENSKIP_TEST_RABBIT_HOST``/``MIENSKIP_TEST_RABBIT_PORT`` (default 127.0.0.1:5672) with
``MIENSKIP_TEST_RABBIT_NODE``, the node every ``rabbitmqctl`` of the tests talks to
(``-n``; unset: rabbitmqctl's default node). A second node lets the fault tests stop and
start a broker that nobody else is using.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator

import pytest
from kombu.transport import memory

REQUIRE_SERVICES = os.environ.get("MIENSKIP_REQUIRE_SERVICES") == "1"
PG_HOST = os.environ.get("MIENSKIP_TEST_PG_HOST", "127.0.0.1")
PG_ADMIN_URL = os.environ.get("MIENSKIP_TEST_PG_ADMIN_URL", f"postgresql+psycopg://postgres@{PG_HOST}:5432/postgres")
RABBIT_HOST = os.environ.get("MIENSKIP_TEST_RABBIT_HOST", "127.0.0.1")
RABBIT_PORT = int(os.environ.get("MIENSKIP_TEST_RABBIT_PORT", "5672"))
RABBIT_NODE = os.environ.get("MIENSKIP_TEST_RABBIT_NODE", "")


def pytest_addoption(parser):
    parser.addoption("--serial-tests", choices=("include", "exclude", "only"), default="include",
                     help="tests marked serial: run them too (default), leave them out (make test's parallel "
                          "pass) or run only them (its serial pass, after the parallel one)")


def pytest_configure(config):
    workers = getattr(config.option, "numprocesses", None)
    if workers and config.getoption("--serial-tests") == "include" and not hasattr(config, "workerinput"):
        raise pytest.UsageError("with -n, add --serial-tests=exclude and run the serial tests without -n "
                                "afterwards (--serial-tests=only): they change state every test shares. "
                                "make test does both.")


def _uses_rabbitmq(item) -> bool:
    params = getattr(item, "callspec", None)
    return "rabbit_url" in item.fixturenames or (params is not None and "rabbitmq" in params.params.values())


def _xdist_group(item) -> str | None:
    """Which tests one xdist worker runs together (``--dist loadgroup``; the others go anywhere).

    Every test on the real RabbitMQ: each declares the whole topology in its own vhost, about
    130 quorum queues, 400 of the broker's file handles, and at its default limit (1024 open
    files) the broker stalls every connection once two or three such vhosts are open at once.
    And a module's tests that share a module-scoped fixture (a server, a browser): it starts once.
    """
    if _uses_rabbitmq(item):
        return "rabbitmq"
    definitions = item._fixtureinfo.name2fixturedefs.values()
    if any(d.scope in ("module", "class") for defs in definitions for d in defs):
        return item.module.__name__
    return None


def pytest_collection_finish(session):
    """On an xdist worker with ``--dist loadgroup``: every grouped test carries its group in
    its node id, which is how xdist sends a group to one worker. pytest 9.2 silently broke
    that (pytest-xdist#1386): the RabbitMQ tests then overlapped and each module's server
    started on every worker. Fail loudly instead."""
    if getattr(session.config.option, "loadgroup", False):
        lost = [item.nodeid for item in session.items
                if item.get_closest_marker("xdist_group") is not None and "@" not in item.nodeid]
        if lost:
            raise pytest.UsageError(f"--dist loadgroup ignores the xdist_group marks ({len(lost)} tests, e.g. "
                                    f"{lost[0]}): pin a pytest that pytest-xdist supports")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if (group := _xdist_group(item)) is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    choice = config.getoption("--serial-tests")
    if choice == "include":
        return
    kept, deselected = [], []
    for item in items:
        serial = item.get_closest_marker("serial") is not None
        (kept if serial == (choice == "only") else deselected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _unavailable(what: str) -> None:
    message = f"{what} is not reachable; start it (see README) or unset MIENSKIP_REQUIRE_SERVICES"
    if REQUIRE_SERVICES:
        pytest.fail(message + " -- required in CI")
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _fresh_memory_transport():
    """kombu's memory:// transport is process-global: start every test empty."""
    memory.Channel.queues.clear()
    memory.Transport.global_state.clear()
    yield
    memory.Channel.queues.clear()
    memory.Transport.global_state.clear()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'mienskip.sqlite3'}"


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


class _Databases:
    """Makes the tests' PostgreSQL databases, and drops them on a thread of its own:
    ``DROP DATABASE`` waits for a checkpoint (about half a second here), which no test
    needs to wait for. Every drop is done before the session ends."""

    def __init__(self):
        from sqlalchemy import create_engine

        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        self._to_drop: queue.SimpleQueue = queue.SimpleQueue()
        self._dropper = threading.Thread(target=self._drop_each, name="drop-test-databases", daemon=True)
        self._dropper.start()

    def create(self, prefix: str = "mienskip_test", template: str | None = None) -> str:
        from sqlalchemy import text

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        return name

    def drop_later(self, name: str) -> None:
        self._to_drop.put(name)

    @contextlib.contextmanager
    def fresh(self, template: str | None = None) -> Iterator[str]:
        """The URL of a new database (empty, or a copy of ``template``), dropped after use."""
        name = self.create(template=template)
        try:
            yield _pg_url(name)
        finally:
            self.drop_later(name)

    def _drop_each(self) -> None:
        from sqlalchemy import text

        while (name := self._to_drop.get()) is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self._to_drop.put(None)
        self._dropper.join(timeout=300)
        self.admin.dispose()


@pytest.fixture(scope="session")
def _pg_databases():
    if not _port_open(PG_HOST, 5432):
        yield None
        return
    databases = _Databases()
    yield databases
    databases.close()


@pytest.fixture
def postgres_url(_pg_databases):
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    if _pg_databases is None:
        _unavailable(f"PostgreSQL on {PG_HOST}:5432")
    with _pg_databases.fresh() as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_pg_template(_pg_databases):
    """One database at every service's newest migration, made once per session (per
    xdist worker): each test's ``database_url`` on PostgreSQL is a copy of it."""
    if _pg_databases is None:
        yield None
        return
    from mienskip_cli.migrations import migrate_every_service

    name = _pg_databases.create("mienskip_template")
    migrate_every_service(lambda _service: _pg_url(name), check=False)  # its engines are disposed: copyable
    yield name
    _pg_databases.drop_later(name)


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory):
    """The same for SQLite: a file at every service's newest migration, copied per test."""
    from mienskip_cli.migrations import migrate_every_service

    path = tmp_path_factory.mktemp("template") / "mienskip.sqlite3"
    migrate_every_service(lambda _service: f"sqlite:///{path}", check=False)  # closed: its WAL is checkpointed
    return path


def run_rabbitmqctl(*args: str, timeout: float = 60) -> str:
    """``rabbitmqctl -q [-n NODE] ARGS`` on the node the tests use: its output, or raises."""
    node = ["-n", RABBIT_NODE] if RABBIT_NODE else []
    done = subprocess.run(["rabbitmqctl", "-q", *node, *args], check=True, capture_output=True, text=True,
                          timeout=timeout)
    return done.stdout


@pytest.fixture
def rabbitmqctl():
    """:func:`run_rabbitmqctl`, for tests that operate or inspect the broker."""
    return run_rabbitmqctl


@pytest.fixture
def rabbit_url():
    """A new RabbitMQ virtual host for this test, deleted afterwards."""
    if not _port_open(RABBIT_HOST, RABBIT_PORT):
        _unavailable(f"RabbitMQ on {RABBIT_HOST}:{RABBIT_PORT}")
    if shutil.which("rabbitmqctl") is None:
        _unavailable("rabbitmqctl (to make a test virtual host)")
    vhost = f"mienskip-test-{uuid.uuid4().hex[:12]}"
    run_rabbitmqctl("add_vhost", vhost)
    run_rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        yield f"amqp://guest:guest@{RABBIT_HOST}:{RABBIT_PORT}/{vhost}"
    finally:
        run_rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, _pg_databases):
    """Run a test on SQLite and on real PostgreSQL: a fresh database of its own, already at
    every service's newest migration (a copy of the session's template; a service that
    migrates at start finds nothing to do). ``empty_database_url`` for one without tables."""
    if request.param == "sqlite":
        copy = tmp_path / "mienskip.sqlite3"
        shutil.copyfile(request.getfixturevalue("_migrated_sqlite_template"), copy)
        yield f"sqlite:///{copy}"
        return
    template = request.getfixturevalue("_migrated_pg_template")
    if template is None:
        _unavailable(f"PostgreSQL on {PG_HOST}:5432")
    with _pg_databases.fresh(template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request):
    """Run a test on an empty SQLite and an empty PostgreSQL database (migrations' tests)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")
