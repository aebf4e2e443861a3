"""Intake's background loops besides the consumer: the outbox relay, retention, the exact
lookups and forgetting uploaded spreadsheets after an hour."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from mienskip_shared.clock import utcnow
from mienskip_shared.messaging import ConfirmedPublisher, OutboxRelay
from mienskip_shared.workers import PollingWorker, Wakeup

from ..adapters import tables, waiting
from ..adapters.repository import IntakeUnitOfWork
from ..adapters.request_repository import RequestRepository
from ..domain import commands, referral_commands
from ..domain.waiting import Thresholds
from ..service_layer import accounts, digest, events, imports, locations, privacy, referrals, series
from ..service_layer.geocoding import AddressLookup
from ..settings import Settings


def _submitted_request_ids(published_rows: Sequence) -> list[str]:
    return [json.loads(row.body)["data"]["request_id"] for row in published_rows
            if row.event_type == "request.submitted"]


def _after_publish(tx: Connection, published_rows: Sequence) -> None:
    """In the relay's transaction: the business consequence of events being on the bus."""
    events.requests_reached_matching(_submitted_request_ids(published_rows), RequestRepository(tx))


def build_relay(settings: Settings, engine: Engine, outbox_written: Wakeup) -> OutboxRelay:
    """Publishes intake's outbox; a ``request.submitted`` on the bus makes its request
    ``queued`` (:func:`events.requests_reached_matching`)."""
    return OutboxRelay(engine, tables.outbox, ConfirmedPublisher(settings.broker_connection),
                       wakeup=outbox_written, after_publish=_after_publish)


def retention_worker(uow: Callable[[], IntakeUnitOfWork], keep_for: timedelta,
                     every: timedelta = timedelta(days=1)) -> PollingWorker:
    """Applies retention now and then (daily by default), a batch a round."""
    return PollingWorker("intake-retention",
                         lambda: privacy.apply_retention(commands.ApplyRetention(keep_for), uow()) > 0,
                         idle_s=every.total_seconds(), max_backoff_s=600)


def exact_lookup_worker(uow: Callable[[], IntakeUnitOfWork], addresses: AddressLookup,
                        every: timedelta = timedelta(minutes=1)) -> PollingWorker:
    """Looks up exactly what was placed on a postcode area while the address service was
    away (:mod:`service_layer.locations`), a batch a round, once a minute while idle."""
    return PollingWorker("intake-exact-lookup",
                         lambda: locations.look_up_exact_locations(commands.LookUpExactLocations(), uow, addresses),
                         idle_s=every.total_seconds(), max_backoff_s=600)
def account_cleanup_worker(uow: Callable[[], IntakeUnitOfWork], every: timedelta = timedelta(hours=1)) -> PollingWorker:
    """Deletes the pages' dead sessions and used-up account links now and then."""
    def step() -> bool:
        accounts.forget_dead_sessions_and_links(uow(), utcnow())
        return False  # one statement each removes them all: wait for the next round

    return PollingWorker("intake-account-cleanup", step, idle_s=every.total_seconds(), max_backoff_s=600)


def series_worker(uow: Callable[[], IntakeUnitOfWork], every: timedelta = timedelta(minutes=10)) -> PollingWorker:
    """Makes the next week's request of each weekly series a week ahead (:mod:`service_layer.series`)."""
    return PollingWorker("intake-series", lambda: series.continue_series(commands.ContinueSeries(), uow),
                         idle_s=every.total_seconds(), max_backoff_s=600)


def stale_import_worker(uow: Callable[[], IntakeUnitOfWork],
                        every: timedelta = timedelta(minutes=5)) -> PollingWorker:
    """Deletes uploaded spreadsheets older than an hour, imported or not
    (:func:`imports.forget_old_imports`): personal data must not linger."""
    return PollingWorker("intake-stale-imports", lambda: imports.forget_old_imports(uow()) > 0,
                         idle_s=every.total_seconds(), max_backoff_s=600)


def digest_worker(uow: Callable[[], IntakeUnitOfWork], engine: Engine, thresholds: Thresholds, link_base: str,
                  clock: Callable[[], datetime] = utcnow, every: timedelta = timedelta(hours=1)) -> PollingWorker:
    """Once a week per region, the coordinators' "waiting too long" digest
    (:mod:`service_layer.digest`); looks every hour whether this week's is written yet."""
    def step() -> bool:
        now = clock()
        digest.send_weekly_digests(uow, waiting.counts_by_region(engine, now, thresholds), now,
                                   f"{link_base.rstrip('/')}/review/attention")
        return False  # the week's digests are written in one round: wait for the next

    return PollingWorker("intake-digest", step, idle_s=every.total_seconds(), max_backoff_s=600)
def overdue_referral_worker(uow: Callable[[], IntakeUnitOfWork], every: timedelta = timedelta(minutes=5),
                            clock: Callable[[], datetime] = utcnow) -> PollingWorker:
    """Marks referrals unanswered past their due time overdue (:func:`referrals.mark_overdue`),
    a batch a round; ``clock`` is injected so a test moves time instead of waiting."""
    return PollingWorker("intake-overdue-referrals",
                         lambda: referrals.mark_overdue(referral_commands.MarkOverdueReferrals(now=clock()), uow()) > 0,
                         idle_s=every.total_seconds(), max_backoff_s=600)
