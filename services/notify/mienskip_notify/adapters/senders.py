"""Delivery channels: SMTP e-mail, and a local mailbox of ``.eml`` files.

Both raise :class:`SendFailed` with a reason that is safe to store and log: error
codes and exception types, never addresses (an SMTP server's reply often echoes the
recipient).
"""

from __future__ import annotations

import os
import re
import smtplib
import threading
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import structlog

from ..domain.notifications import Notification
from .composer import WIRE_POLICY

log = structlog.get_logger(__name__)

_SAFE_DIRECTORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SendFailed(Exception):
    """A message could not be delivered now; ``str(exc)`` holds no personal data."""


def safe_reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"{name}: {codes}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPException):
        return f"{name}: {exc}"[:200]
    if isinstance(exc, OSError):
        return f"{name}: {exc.strerror or exc}"[:200]
    return name


class MailboxSender:
    """Writes ``<root>/<kamer_id>/<key>.eml``: a real channel for the embedded demo.

    The write is atomic (temporary file, fsync, rename), so a reader never sees half a
    message, and writing the same notification again replaces the file with itself.
    """

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, notification: Notification) -> Path:
        if not _SAFE_DIRECTORY.match(notification.kamer_id):
            raise SendFailed(f"kamer id not usable as a directory name (kamer {notification.kamer_id[:40]!r})")
        return self.root / notification.kamer_id / f"{notification.key}.eml"

    def send(self, notification: Notification, message: EmailMessage) -> None:
        target = self.path_for(notification)
        temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(temporary, "wb") as handle:
                handle.write(message.as_bytes(policy=WIRE_POLICY))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise SendFailed(safe_reason(exc)) from exc

    def close(self) -> None:
        pass


class SmtpSender:
    """Sends over one SMTP connection, kept open between messages.

    URLs: ``smtp://host:25`` (plain), ``smtp+starttls://user:pass@host:587``,
    ``smtps://user:pass@host:465``. A kept connection may have been closed by the
    server while idle: then we reconnect once and send again. If the server dropped us
    after accepting the message but before answering, that resend duplicates it; the
    deterministic Message-ID lets mail clients show it once.
    """

    def __init__(self, url: str, *, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError(f"unsupported SMTP URL scheme {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("SMTP URL needs a host")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or {"smtp": 25, "smtps": 465, "smtp+starttls": 587}[parts.scheme]
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._timeout = timeout
        self._client: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            client = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout)
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        try:
            if self._scheme == "smtp+starttls":
                client.starttls()
            if self._username:
                client.login(self._username, self._password or "")
        except BaseException:
            client.close()
            raise
        return client

    def send(self, notification: Notification, message: EmailMessage) -> None:
        with self._lock:
            reused = self._client is not None
            try:
                try:
                    self._deliver(notification, message)
                except (smtplib.SMTPServerDisconnected, ConnectionError):
                    self._drop()
                    if not reused:
                        raise
                    log.info("smtp.reconnecting", notification_key=notification.key)
                    self._deliver(notification, message)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                # "from None": the consumer logs tracebacks, and SMTP errors quote addresses
                raise SendFailed(safe_reason(exc)) from None

    def _deliver(self, notification: Notification, message: EmailMessage) -> None:
        if self._client is None:
            self._client = self._connect()
        self._client.send_message(message, to_addrs=[notification.recipient])

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()  # the server is gone already; nothing left to tell it
