"""Throw-away servers and subprocesses the benchmarks share: a PostgreSQL database and a
RabbitMQ vhost made for one run and removed after it, Mienskip's commands as subprocesses
with their output in files, bounded waits, and a local SMTP sink."""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import requests
from sqlalchemy import create_engine, text

from mienskip_shared.runtime import stop_process

BIN = Path(sys.executable).parent  # the venv this runs in holds gunicorn and mienskip
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/{vhost}"

# Deadlines (seconds): every wait here is bounded by one of these.
COMMAND_TIMEOUT = 60.0  # rabbitmqctl, ``mienskip kamer add``
STOP_TIMEOUT = 15.0  # a subprocess's graceful shutdown before it is killed
START_TIMEOUT = 10.0  # the SMTP sink answering
POLL_INTERVAL = 0.05
SMTP_SINK_PATHS = ("/usr/sbin/smtp-sink",)


# -- throw-away servers' resources ------------------------------------------------------

@contextlib.contextmanager
def temporary_database() -> Iterator[str]:
    """A fresh database, so counts of rows are this run's alone; dropped afterwards."""
    name = f"mienskip_bench_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield PG_URL.format(name=name)
        finally:
            with admin.connect() as conn:  # FORCE: a killed subprocess may leave a session
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def temporary_vhost() -> Iterator[str]:
    """A fresh vhost, so the queue depth counts this run's messages alone; deleted afterwards."""
    vhost = f"mienskip_bench_{secrets.token_hex(4)}"
    rabbitmqctl("add_vhost", vhost)
    try:
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield BROKER_URL.format(vhost=vhost)
    finally:
        rabbitmqctl("delete_vhost", vhost)


def rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "--quiet", *args], check=True, timeout=COMMAND_TIMEOUT,
                   stdout=subprocess.DEVNULL)


def rabbitmq_queue_depths(vhost: str) -> dict[str, int]:
    """Messages ready in every queue of ``vhost`` that holds any."""
    listed = subprocess.run(["rabbitmqctl", "--quiet", "list_queues", "-p", vhost, "name", "messages_ready"],
                            check=True, timeout=COMMAND_TIMEOUT, capture_output=True, text=True).stdout
    depths = {}
    for line in listed.splitlines():
        name, _, count = line.rpartition("\t")
        if count.isdigit() and int(count):
            depths[name] = int(count)
    return depths


def service_env(database_url: str, broker_url: str) -> dict[str, str]:
    """What every Mienskip subprocess gets: the throw-away servers, and no rate limit in the way."""
    return {
        **os.environ,
        "MIENSKIP_DATABASE_URL": database_url,
        "MIENSKIP_BROKER_URL": broker_url,
        "MIENSKIP_RATE_LIMIT": "100000 per second",
        "MIENSKIP_LOG_LEVEL": "WARNING",
    }


def register_kamer(env: dict[str, str], name: str = "Bench", lat: float = 53.2, lon: float = 5.8,
                   email: str | None = None) -> dict:
    """The kamer (``id``, ``token``), made the way an operator makes one (this also migrates)."""
    done = subprocess.run(
        [str(BIN / "mienskip"), "kamer", "add", "--name", name, "--lat", str(lat), "--lon", str(lon), "--json",
         *(["--email", email] if email else [])],
        env=env, check=True, timeout=COMMAND_TIMEOUT, capture_output=True, text=True)
    last_json_line = [line for line in done.stdout.splitlines() if line.startswith("{")][-1]
    return json.loads(last_json_line)


# -- subprocesses ------------------------------------------------------------------------

@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Process:
    """Output goes to a file, not a pipe: a full pipe would stall the server mid-benchmark."""
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
    return Process(name, popen, log)


def stop(process: Process) -> None:
    """SIGTERM for a graceful stop (the relay finishes its round), then SIGKILL at the deadline."""
    stop_process(process.popen, STOP_TIMEOUT)


@contextlib.contextmanager
def running(processes: list[Process]) -> Iterator[list[Process]]:
    try:
        yield processes
    except BaseException:
        for process in processes:
            print(f"--- last lines of {process.name} ({process.log}) ---\n{process.tail()}", file=sys.stderr)
        raise
    finally:
        for process in processes:
            stop(process)


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               processes: list[Process] = (), *, interval: float = POLL_INTERVAL) -> float:
    """Poll ``condition`` every ``interval`` s until it holds; seconds taken. Fails at once if
    a subprocess died."""
    started = time.perf_counter()
    deadline = started + timeout
    while not condition():
        for process in processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited with {process.popen.returncode} while waiting for {what}")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f} s")
        time.sleep(interval)
    return time.perf_counter() - started


def is_ready(base_url: str) -> bool:
    try:
        return requests.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


# -- a local SMTP sink ---------------------------------------------------------------------

AIOSMTPD_SINK = r"""
import signal, sys, threading
from aiosmtpd.controller import Controller
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
print("ready", flush=True)
stop.wait()
controller.stop()
print(f"mesg={Count.n}", flush=True)
"""


# -- the sink ------------------------------------------------------------------------------

@dataclass
class Sink:
    name: str
    port: int
    process: subprocess.Popen
    output: Path

    def received(self) -> int:
        """Messages the sink accepted; read from its output after it stopped."""
        counts = re.findall(rb"mesg=(\d+)", self.output.read_bytes())
        return int(counts[-1]) if counts else 0


def smtp_sink_path() -> str | None:
    return shutil.which("smtp-sink") or next((p for p in SMTP_SINK_PATHS if os.access(p, os.X_OK)), None)


@contextlib.contextmanager
def running_sink(kind: str, workdir: Path) -> Iterator[Sink]:
    port = free_port()
    output = workdir / "sink.out"
    path = smtp_sink_path()
    if kind == "smtp-sink" and path is None:
        raise SystemExit("smtp-sink is not installed (Debian: apt-get install postfix)")
    use_smtp_sink = kind == "smtp-sink" or (kind == "auto" and path is not None)
    if use_smtp_sink:
        # -c: counters on stdout, the last line after SIGTERM says how many messages arrived
        argv = [path, "-c", "-u", "nobody", f"127.0.0.1:{port}", "256"]
        name = "smtp-sink (Postfix)"
    else:
        argv = [sys.executable, "-c", AIOSMTPD_SINK, str(port)]
        name = "aiosmtpd (subprocess)"
    with output.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    sink = Sink(name, port, process, output)
    try:
        wait_until(lambda: _answers(port), START_TIMEOUT, "the SMTP sink answering")
        yield sink
    finally:
        stop_process(process, STOP_TIMEOUT)


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(3) == b"220"
    except OSError:
        return False


# -- CPU ------------------------------------------------------------------------------------

SERVERS = {"postgres": "postgresql", "beam.smp": "rabbitmq", "erl_child_setup": "rabbitmq"}  # process name -> part


def cpu_seconds(processes: list[Process]) -> dict[str, float]:
    """User + system CPU of each process and its children (gunicorn's workers); then what
    the servers (PostgreSQL's backends, RabbitMQ's Erlang VM), this load generator and the
    whole machine used (the servers are shared with whatever else runs: a quiet machine)."""
    used: dict[str, float] = {}
    for process in processes:
        try:
            root = psutil.Process(process.popen.pid)
            total = 0.0
            for proc in (root, *root.children(recursive=True)):
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = proc.cpu_times()
                    total += times.user + times.system
            used[process.name] = total
        except psutil.NoSuchProcess:
            used[process.name] = 0.0
    for proc in psutil.process_iter(["name"]):
        part = SERVERS.get(proc.info["name"] or "")
        if part:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()  # a backend that ended: its postmaster's children_*
                used[part] = used.get(part, 0.0) + times.user + times.system + times.children_user \
                    + times.children_system
    own = psutil.Process().cpu_times()
    used["load generator"] = own.user + own.system
    machine = psutil.cpu_times()
    used["machine"] = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0) \
        - getattr(machine, "guest", 0.0) - getattr(machine, "guest_nice", 0.0)
    used["wall"] = time.perf_counter()
    return used
