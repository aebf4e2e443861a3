"""The worker that sends "proposal ready for review" once its hold ran out (see
``service_layer/review_hold.py``; both go when intake announces approvals itself)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from mienskip_shared.workers import PollingWorker

from ..service_layer import review_hold, sending
from ..service_layer.ports import Ports, UnitOfWork

IDLE_S = 0.5


def review_releaser(uow: Callable[[], UnitOfWork], ports: Ports,
                    retry_delays_s: Sequence[float]) -> Callable[..., int]:
    """One round: due held reviews go to the batch handler (sent, not held again), a
    failure to its retry or, after the last, to :func:`sending.give_up`. Returns how
    many were taken."""

    def release(now: datetime | None = None) -> int:
        round_uow = uow()
        return review_hold.release_held_reviews(
            round_uow,
            lambda envelopes: sending.notify_batch(envelopes, round_uow, ports, releasing=True),
            lambda envelope, exc: sending.give_up(envelope, exc, round_uow, ports),
            retry_delays_s, now=now)

    return release


def build_review_releaser(uow: Callable[[], UnitOfWork], ports: Ports,
                          retry_delays_s: Sequence[float]) -> PollingWorker:
    release = review_releaser(uow, ports, retry_delays_s)
    return PollingWorker("notify-review-hold", lambda: release() > 0, idle_s=IDLE_S)
