"""The worker that sends what falls due (reminders, "how did it go?", follow-ups, the
kamers' review digests): :func:`service_layer.due.send_due` in the shared worker loop."""

from __future__ import annotations

from collections.abc import Callable

from mienskip_shared.workers import PollingWorker

from ..service_layer.due import send_due
from ..service_layer.ports import Ports, UnitOfWork


def build_schedule_worker(settings, uow: Callable[[], UnitOfWork], ports: Ports) -> PollingWorker:
    return PollingWorker("notify-schedule", lambda: send_due(uow(), ports), idle_s=settings.schedule_poll_s)
