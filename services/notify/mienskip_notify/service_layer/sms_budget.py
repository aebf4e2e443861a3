"""Each kamer's SMS budget per month: an SMS takes its place when it is planned; one over
the budget fails for good at once, and the kamer is asked to call the person instead."""

from __future__ import annotations

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope

from ..domain.channels import SMS, SMS_LIMIT_REACHED, sms_month
from ..domain.notifications import Notification
from .handover import kamer_calls_instead
from .outcomes import failed_event, log_ids
from .ports import Ports, UnitOfWork

log = structlog.get_logger(__name__)


def within_budget(uow: UnitOfWork, due: list, ports: Ports) -> list[tuple[Notification, Envelope]]:
    """Take each SMS's place in its kamer's monthly budget; one over it fails for good
    and the kamer is asked to call the person instead."""
    kept = []
    month = sms_month(utcnow())
    for notification, cause in due:
        if notification.channel != SMS or uow.sms_budget.reserve(
                notification.key, notification.kamer_id, month, ports.sms_limit_per_kamer_month):
            kept.append((notification, cause))
            continue
        log.warning("notification.failed", reason=SMS_LIMIT_REACHED, **log_ids(notification))
        failed = uow.notifications.fail_for_good(key=notification.key, error=SMS_LIMIT_REACHED)
        uow.publish_all([failed_event(row, cause) for row in failed])
        kept += [(n, cause) for n in kamer_calls_instead(uow, cause, failed, ports)]
    return kept
