"""``make test``: every test, in two pytest passes.

First every test not marked ``serial``, spread over ``MIENSKIP_TEST_WORKERS`` (default 4)
pytest-xdist worker processes (the tests mostly wait on servers and browsers: four beat three
on two cores); each test has its own PostgreSQL database (and RabbitMQ
virtual host). ``--dist loadgroup`` with the groups tests/conftest.py gives: the RabbitMQ
tests one after another on one worker (the broker runs out of file handles otherwise), and a
module's tests that share a module-scoped server or browser together. Then the ``serial``
tests, alone in one process: they change state every test shares (the fault matrix restarts
the RabbitMQ application).

The arguments go to both passes (``make test PYTEST_ARGS="tests/unit -k foo"``). A pass that
selects no test (pytest's exit code 5) is fine as long as the other ran some; any other
failure of either pass fails the whole.
"""

from __future__ import annotations

import os
import subprocess
import sys

NO_TESTS_COLLECTED = 5
INTERRUPTED = 2


def _pytest(args: list[str]) -> int:
    """Run pytest on ``args``; on Ctrl-C let it tear down (databases, processes) before returning."""
    process = subprocess.Popen([sys.executable, "-m", "pytest", *args])
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue  # pytest got the SIGINT too and is stopping


def main(args: list[str]) -> int:
    workers = os.environ.get("MIENSKIP_TEST_WORKERS", "4")
    parallel = _pytest(["-n", workers, "--dist", "loadgroup", "--serial-tests=exclude", *args])
    if parallel == INTERRUPTED:
        return parallel
    serial = _pytest(["--serial-tests=only", *args, "-n", "0"])  # the last -n wins: never in parallel
    for code in (parallel, serial):
        if code not in (0, NO_TESTS_COLLECTED):
            return code
    return NO_TESTS_COLLECTED if parallel == serial == NO_TESTS_COLLECTED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
