"""notify's one settings object, from ``MIENSKIP_*`` (e.g. ``MIENSKIP_SMTP_URL``)."""

from __future__ import annotations

from dataclasses import dataclass

from mienskip_shared.settings import CommonSettings


@dataclass(frozen=True)
class Settings(CommonSettings):
    smtp_url: str = ""  # empty: every message goes to the mailbox under data_dir/mailbox/
    mail_from: str = "mienskip@localhost"
    public_url: str = "http://127.0.0.1:8000"  # where kamer staff open the review page
