"""The rate limiter's in-process storage: limits as limits' MemoryStorage enforces them,
without a new thread per hit."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from polling import eventually

from mienskip_intake.adapters import rate_limit_storage
from mienskip_intake.adapters.rate_limit_storage import SweptMemoryStorage, storage_uri


class FakeTime:
    """limits' memory storage reads ``time.time()``; this one moves only when told."""

    def __init__(self):
        self.now = time.time()

    def time(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeTime()
    monkeypatch.setattr("limits.storage.memory.time", fake)
    return fake


def test_memory_means_the_swept_storage_and_other_stores_stay_as_configured():
    assert isinstance(storage_from_string(storage_uri("memory://")), SweptMemoryStorage)
    assert storage_uri("redis://127.0.0.1:6379") == "redis://127.0.0.1:6379"


def test_it_limits_as_memory_storage_does_a_window_at_a_time(clock):
    per_second = parse("3 per second")
    for storage in (MemoryStorage(), SweptMemoryStorage()):
        limiter = FixedWindowRateLimiter(storage)
        allowed = [limiter.hit(per_second, "kamer-token") for _ in range(5)]
        assert allowed == [True, True, True, False, False]
        assert limiter.hit(per_second, "another-token")  # each caller its own budget
        clock.now += 1.001  # the window has passed: a read finds the counter expired
        assert limiter.hit(per_second, "kamer-token")


def test_hits_start_no_thread(monkeypatch):
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self.name), real_start(self)))
    limiter, per_minute = FixedWindowRateLimiter(SweptMemoryStorage()), parse("1000 per minute")
    started.clear()
    for n in range(200):
        limiter.hit(per_minute, f"caller-{n % 7}")
    assert started == []


def test_the_sweeper_gives_back_the_memory_of_expired_counters(clock, monkeypatch):
    monkeypatch.setattr(rate_limit_storage, "SWEEP_EVERY_S", 0.01)
    storage = SweptMemoryStorage()
    FixedWindowRateLimiter(storage).hit(parse("3 per second"), "gone-caller")
    assert storage.storage
    clock.now += 2
    assert eventually(lambda: not storage.storage, timeout=5)
