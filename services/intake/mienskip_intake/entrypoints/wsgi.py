"""``gunicorn 'mienskip_intake.entrypoints.wsgi:create()'``: the HTTP API alone.

The outbox relay and the status consumer run in their own process
(``mienskip intake --no-api``), so web workers can be scaled on their own.
"""

from ..bootstrap import build
from ..settings import Settings


def create():
    return build(Settings.from_env(), with_workers=False).wsgi_app
