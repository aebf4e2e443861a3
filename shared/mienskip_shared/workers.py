"""The one loop every background worker runs, with one error policy.

A worker's ``step()`` does a round of work and says whether more may be waiting. Between
rounds it waits for its wake-up or its idle interval. An error in a round is logged and
the round tried again after a back-off that doubles up to a cap: a database or broker
that is away a moment must not take the process down. A programming error is different:
retrying cannot fix it, so it stops the process, and its supervisor restarts it whole
(``runtime.start_workers`` sets the stop event).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import structlog
from prometheus_client import Counter

log = structlog.get_logger(__name__)

ROUND_FAILURES = Counter("mienskip_worker_round_failures_total", "Worker rounds that failed and were retried",
                         ["worker"])

# Errors no retry can cure: the code is wrong, not the world around it.
PROGRAMMING_ERRORS: tuple[type[BaseException], ...] = (
    AssertionError, AttributeError, ImportError, NameError, NotImplementedError, TypeError,
)

STOP_CHECK_S = 0.25  # how soon a worker idling on its wake-up sees a stop


class Wakeup:
    """Tells an idle worker that work has arrived (a commit wrote outbox rows, say).

    ``min_interval_s`` throttles it: at hundreds of commits a second, one relay round per
    commit would fight the writers for SQLite's lock; rows that arrive in between go out
    with the next round.
    """

    def __init__(self, min_interval_s: float = 0.0):
        self._event = threading.Event()
        self._min_interval_s = min_interval_s
        self._last = float("-inf")

    def set(self) -> None:
        now = time.monotonic()
        if now - self._last >= self._min_interval_s:
            self._last = now
            self._event.set()

    def wait(self, timeout: float) -> bool:
        """Wait until set or ``timeout``; True if set. Clears it for the next wait."""
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken


class PollingWorker:
    """Runs ``step`` until ``stop`` is set (see the module's docstring)."""

    def __init__(self, name: str, step: Callable[[], bool], *, idle_s: float, first_backoff_s: float = 0.5,
                 max_backoff_s: float = 30.0, wakeup: Wakeup | None = None,
                 on_stop: Callable[[], None] | None = None, linger_s: float | Callable[[], float] = 0.0):
        """``linger_s``: after a wake-up, wait this long before the round, so that what
        is written meanwhile goes in the same round (fewer, fuller rounds under load); a
        callable is asked each time."""
        self.name = name
        self._linger_s = linger_s
        self._first_backoff_s = min(first_backoff_s, max_backoff_s)
        self._step = step
        self._idle_s = idle_s
        self._max_backoff_s = max_backoff_s
        self._wakeup = wakeup
        self._on_stop = on_stop

    def run(self, stop: threading.Event) -> None:
        backoff = self._first_backoff_s
        try:
            while not stop.is_set():
                try:
                    more = self._step()
                except PROGRAMMING_ERRORS:
                    raise
                except Exception as exc:  # noqa: BLE001 -- logged, counted and retried: the one policy
                    ROUND_FAILURES.labels(self.name).inc()
                    log.warning("worker.round_failed", worker=self.name, error=f"{type(exc).__name__}: {exc}",
                                retry_in_s=backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)
                    continue
                backoff = self._first_backoff_s
                if not more and not stop.is_set():
                    self._idle(stop)
        finally:
            if self._on_stop is not None:
                self._on_stop()

    def _idle(self, stop: threading.Event) -> None:
        if self._wakeup is None:
            stop.wait(self._idle_s)
            return
        deadline = time.monotonic() + self._idle_s
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self._wakeup.wait(min(left, STOP_CHECK_S)):
                linger = self._linger_s() if callable(self._linger_s) else self._linger_s
                if linger:
                    stop.wait(linger)
                return
