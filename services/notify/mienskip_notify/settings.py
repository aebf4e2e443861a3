"""notify's one settings object, from ``MIENSKIP_*`` (e.g. ``MIENSKIP_SMTP_URL``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from mienskip_shared.settings import CommonSettings


@dataclass(frozen=True)
class Settings(CommonSettings):
    smtp_url: str = ""  # empty: every message goes to the mailbox under data_dir/mailbox/
    mail_from: str = "mienskip@localhost"
    public_url: str = "http://127.0.0.1:8000"  # where kamer staff open the review page
    # Master key for webhook signatures: a kamer's secret is HMAC-SHA256(this, kamer_id).
    # Empty with SQLite (the embedded system): generated once under data_dir. Empty with
    # a server database: startup fails if a kamer has a webhook (see bootstrap).
    webhook_secret: str = field(default="", repr=False)
    sms_url: str = ""  # the SMS gateway's endpoint; empty: no SMS channel
    sms_key: str = field(default="", repr=False)  # sent as "Authorization: Bearer <key>"
    sms_limit_per_kamer_month: int = 200
    http_timeout_s: float = 10.0  # read timeout for webhooks and the SMS gateway (connect: 3 s)
    batch_max_size: int = 64  # events planned, sent and recorded together, at most this many ...
    batch_max_wait_ms: int = 50  # ... and none waiting longer than this for its batch to fill
    # A kamer's "proposal ready for review" mails: the first after a quiet period at once,
    # further ones gathered into one digest at most this often (its webhook: one call each);
    # 0: every proposal its own mail, as before.
    kamer_digest_minutes: int = 15
    schedule_poll_s: float = 30.0  # how often the schedule's worker looks for what fell due
