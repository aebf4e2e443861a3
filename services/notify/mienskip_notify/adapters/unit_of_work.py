"""notify's unit of work: one transaction over its tables, outbox and inbox."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from mienskip_shared import unit_of_work

from . import tables
from .contacts import ContactRepository
from .notifications import NotificationRepository
from .schedule import ScheduleRepository
from .sms_budget import SmsBudgetRepository
from .tasks import TaskRepository


class NotifyUnitOfWork(unit_of_work.SqlUnitOfWork):
    """See the shared base: commit or roll back all together; a commit that wrote outbox
    rows wakes the relay."""

    outbox = tables.outbox
    inbox = tables.inbox
    contacts: ContactRepository
    tasks: TaskRepository
    notifications: NotificationRepository
    sms_budget: SmsBudgetRepository
    schedule: ScheduleRepository

    def _open(self, conn: Connection) -> None:
        self.contacts = ContactRepository(conn)
        self.tasks = TaskRepository(conn)
        self.notifications = NotificationRepository(conn)
        self.sms_budget = SmsBudgetRepository(conn)
        self.schedule = ScheduleRepository(conn)
