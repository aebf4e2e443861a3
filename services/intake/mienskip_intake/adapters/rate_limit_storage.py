"""The rate limiter's storage in this process (``MIENSKIP_RATE_LIMIT_STORAGE=memory://``).

limits' ``MemoryStorage`` frees expired counters on a 10 ms ``threading.Timer`` that it
starts again whenever the last one has run out: under load, a new thread on almost every
API call (7 % of a web worker's CPU at 100 requests/s, measured with py-spy). Here one
long-lived daemon thread sweeps instead, every ``SWEEP_EVERY_S``. Limits are enforced
exactly as before: a counter's expiry is checked whenever it is read (``MemoryStorage.get``);
the sweep only gives back the memory of counters nobody reads any more.
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

SCHEME = "mienskip-memory"
SWEEP_EVERY_S = 1.0


class _Sweeper(threading.Thread):
    """Stands in for MemoryStorage's timer: alive for the life of the process, so the
    storage never starts another."""

    def __init__(self, sweep):
        super().__init__(name="rate-limit-sweeper", daemon=True)
        self._sweep = sweep

    def run(self) -> None:
        while True:
            time.sleep(SWEEP_EVERY_S)
            self._sweep()

    def cancel(self) -> None:  # threading.Timer's interface; the sweep ends with the process
        pass


class SweptMemoryStorage(MemoryStorage):
    """``MemoryStorage`` whose expired counters one thread sweeps (see the module)."""

    STORAGE_SCHEME = [SCHEME]  # limits registers the scheme when the class is defined

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.timer.cancel()
        self.timer = _Sweeper(self._MemoryStorage__expire_events)
        self.timer.start()


def storage_uri(configured: str) -> str:
    """The storage behind a configured URI: this process's memory through the swept storage."""
    return f"{SCHEME}://" if configured == "memory://" else configured
