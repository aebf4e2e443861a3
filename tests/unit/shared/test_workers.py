"""The one worker loop: transient errors are retried, programming errors stop the process."""

from __future__ import annotations

import threading

import pytest

from mienskip_shared.workers import PollingWorker, Wakeup


def test_a_failing_round_is_logged_and_tried_again():
    stop = threading.Event()
    calls = []

    def step() -> bool:
        calls.append(len(calls))
        if len(calls) < 3:
            raise ConnectionError("database away a moment")
        stop.set()
        return False

    PollingWorker("test", step, idle_s=0, first_backoff_s=0).run(stop)
    assert calls == [0, 1, 2]


def test_a_programming_error_is_raised_and_the_cleanup_still_runs():
    closed = []

    def step() -> bool:
        raise TypeError("a bug, not the weather")

    with pytest.raises(TypeError):
        PollingWorker("test", step, idle_s=0, on_stop=lambda: closed.append(True)).run(threading.Event())
    assert closed == [True]


def test_more_work_means_no_idle_wait():
    stop = threading.Event()
    rounds = iter([True, True, False])
    seen = []

    def step() -> bool:
        more = next(rounds)
        seen.append(more)
        if not more:
            stop.set()
        return more

    # idle_s is an hour: the test only ends because busy rounds do not wait
    PollingWorker("test", step, idle_s=3600, wakeup=Wakeup()).run(stop)
    assert seen == [True, True, False]


def test_a_wakeup_is_throttled_and_cleared_by_the_wait():
    wakeup = Wakeup(min_interval_s=3600)
    wakeup.set()
    assert wakeup.wait(0) is True
    wakeup.set()  # within the interval: the next round will pick the work up
    assert wakeup.wait(0) is False
