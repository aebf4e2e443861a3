"""intake's HTTP API under gunicorn, the production WSGI server the image runs, started by
``mienskip intake`` beside its relay and consumers (which stay in the command's own process).

gunicorn runs as a child process of its own (never forked from a process whose threads may
hold locks), bound to the command's life: it stops when the command stops, and dies with it
if the command is killed (Linux's parent-death signal), so no orphan keeps the port.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from collections.abc import Mapping

PR_SET_PDEATHSIG = 1
WSGI_APP = "mienskip_intake.entrypoints.wsgi:create()"


def _die_with_parent() -> None:  # pragma: no cover -- runs in the child between fork and exec
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_gunicorn(host: str, port: int, *, workers: int, threads: int, env: Mapping[str, str]) -> subprocess.Popen:
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
            "--threads", str(threads), "--graceful-timeout", "10",
            # gunicorn 27's control socket has one path per user: a second gunicorn on the
            # machine (another service, a test run) would take it over.
            "--no-control-socket", WSGI_APP]
    return subprocess.Popen(argv, env=dict(env), stdin=subprocess.DEVNULL,
                            preexec_fn=_die_with_parent if sys.platform == "linux" else None)
