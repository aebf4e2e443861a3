"""``mienskip migrate``: every service's tables to the newest migration, or only a look
whether they are there (``--check``, what a deployment's services wait on)."""

from __future__ import annotations

from collections.abc import Callable

from mienskip_intake import bootstrap as intake_bootstrap
from mienskip_matching import bootstrap as matching_bootstrap
from mienskip_notify import bootstrap as notify_bootstrap
from mienskip_shared.db import at_head, make_engine, upgrade

# Every service's migrations, in the order a new database takes them.
SERVICES = (("intake", intake_bootstrap), ("matching", matching_bootstrap), ("notify", notify_bootstrap))


def migrate_every_service(database_url_of: Callable[[str], str], check: bool) -> list[str]:
    """Upgrade each service (or, with ``check``, change nothing); the names of those behind.

    ``database_url_of(name)`` is that service's database URL. A database that cannot be
    reached raises SQLAlchemy's ``OperationalError``.
    """
    behind = []
    for name, bootstrap in SERVICES:
        engine = make_engine(database_url_of(name))
        try:
            if not check:
                upgrade(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
            elif not at_head(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE):
                behind.append(name)
        finally:
            engine.dispose()
    return behind
