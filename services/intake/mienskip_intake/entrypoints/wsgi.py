"""``gunicorn 'mienskip_intake.entrypoints.wsgi:create()'``: the HTTP API alone.

The outbox relay and the status consumer run in their own process
(``mienskip intake --no-api``), so web workers can be scaled on their own. Logs go as the
settings say (``MIENSKIP_LOG_LEVEL``, ``MIENSKIP_LOG_JSON``), as from every ``mienskip`` command.
"""

from mienskip_shared.logging import configure_logging

from ..bootstrap import build
from ..settings import Settings


def create():
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_json, service="intake")
    return build(settings, with_workers=False).wsgi_app
