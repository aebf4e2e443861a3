"""``mienskip dlq``: an operator's look at dead-lettered messages on RabbitMQ, and their
replay (the work itself is in :mod:`.dead_letters`)."""

from __future__ import annotations

import json

import click

from mienskip_intake.settings import Settings as IntakeSettings
from mienskip_shared.messaging.topology import SUBSCRIPTIONS

from . import dead_letters


@click.group()
def dlq() -> None:
    """Dead-lettered messages on RabbitMQ (operators)."""


def _broker_url() -> str:
    """RabbitMQ's URL; on the embedded transport, one line saying why there is nothing to see."""
    url = IntakeSettings.from_env().broker_url
    if not url.startswith(("amqp://", "amqps://", "pyamqp://")):
        names = ", ".join(sorted(sub.dead_letter_queue_name for sub in SUBSCRIPTIONS))
        raise click.ClickException(
            "dead letters need RabbitMQ: set MIENSKIP_BROKER_URL=amqp://... (the embedded transport keeps "
            f"none across restarts). Dead-letter queues: {names}")
    return url


@dlq.command("peek")
@click.argument("queue")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def dlq_peek(queue: str, limit: int, as_json: bool) -> None:
    """Show dead letters in QUEUE (a <queue>.dlq name) and why, leaving them there."""
    letters = dead_letters.peek(_broker_url(), queue, limit)
    if as_json:
        click.echo(json.dumps([letter.__dict__ for letter in letters]))
    for letter in [] if as_json else letters:
        click.echo(f"{letter.message_id}  from {letter.origin}: {letter.reason}")


@dlq.command("replay")
@click.argument("queue")
@click.option("--limit", type=int, default=None, help="At most this many (default: all).")
def dlq_replay(queue: str, limit: int | None) -> None:
    """Move dead letters from QUEUE back to the queue they came from."""
    click.echo(f"replayed {dead_letters.replay(_broker_url(), queue, limit)}")
