"""Delivery channels: SMTP e-mail, a local mailbox of ``.eml`` files, signed webhooks
and an SMS gateway over HTTP.

All raise :class:`SendFailed` with a reason that is safe to store and log: error
codes, HTTP statuses and exception types, never addresses, URLs or phone numbers (an
SMTP server's reply often echoes the recipient; a ``requests`` error quotes the URL).
"""

from __future__ import annotations

import json
import os
import re
import smtplib
import threading
import uuid
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests
import structlog

from mienskip_shared.files import PRIVATE_FILE, private_directory

from ..domain.notifications import Notification, SendFailed
from ..webhooks import SIGNATURE_HEADER, signature_header
from .composer import WIRE_POLICY

log = structlog.get_logger(__name__)

_SAFE_DIRECTORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"{name}: {codes}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{name}: {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPException):
        return f"{name}: {exc}"[:200]
    if isinstance(exc, requests.RequestException):
        return name  # its message names the URL
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
            private_directory(target.parent)  # volunteer links and addresses: the owner's eyes only
            with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE), "wb") as handle:
                handle.write(message.as_bytes(policy=WIRE_POLICY))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise SendFailed(safe_reason(exc)) from exc

    def remove(self, kamer_id: str, key: str) -> None:
        """Delete one message's file (erasure); nothing happens if it is not there."""
        if _SAFE_DIRECTORY.match(kamer_id):
            (self.root / kamer_id / f"{key}.eml").unlink(missing_ok=True)

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
        self._unanswered: Submitted | None = None  # its content sent, the server's answer not read

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
        """Hand the message over and wait for the server's answer; raises :class:`SendFailed`."""
        self.submit(notification, message).result()

    def submit(self, notification: Notification, message: EmailMessage) -> Submitted:
        """Hand the message over, and return before the server's answer to its content is
        read: the caller can compose the next message while the server takes this one in.
        ``result()`` reads the answer; so does the next use of the connection, first.
        Raises :class:`SendFailed` when the server refused the message before its content."""
        with self._lock:
            self._settle()
            submitted = Submitted(self, notification, message, reused=self._client is not None)
            try:
                self._start_or_reconnect(submitted)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                # "from None": the consumer logs tracebacks, and SMTP errors quote addresses
                raise SendFailed(safe_reason(exc)) from None
            self._unanswered = submitted
            return submitted

    def _start_or_reconnect(self, submitted: Submitted) -> None:
        try:
            self._start(submitted)
        except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
            self._start_again(submitted, exc)

    def _start_again(self, submitted: Submitted, dropped: Exception) -> None:
        """The connection dropped under ``submitted``: once, if it was a reused connection
        (the server may have closed an idle one), start it again on a new one; else re-raise."""
        self._drop()
        if not submitted.reused:
            raise dropped
        log.info("smtp.reconnecting", notification_key=submitted.notification.key)
        submitted.reused = False
        self._start(submitted)

    def await_answer(self, submitted: Submitted) -> None:
        """Read ``submitted``'s answer if nothing has read it yet (it is kept in ``submitted``)."""
        with self._lock:
            if self._unanswered is submitted:
                self._settle()

    def _settle(self) -> None:
        """Read the answer to the message still waiting for one (caller holds the lock)."""
        submitted, self._unanswered = self._unanswered, None
        if submitted is None:
            return
        try:
            try:
                _await_data_reply(self._client, submitted.answered)
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # dropped before it answered: maybe after taking the message in (see the class)
                self._start_again(submitted, exc)
                _await_data_reply(self._client, submitted.answered)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            submitted.failure = SendFailed(safe_reason(exc))

    def _start(self, submitted: Submitted) -> None:
        """Everything up to the server's answer to the content; ``submitted.answered`` says
        whether that answer was read already (smtplib's SMTPUTF8 path reads it itself)."""
        if self._client is None:
            self._client = self._connect()
        message, recipient = submitted.message, submitted.notification.destination
        sender = message["From"].addresses[0].addr_spec
        self._client.ehlo_or_helo_if_needed()
        if not (sender.isascii() and recipient.isascii()):  # smtplib's way, with SMTPUTF8
            self._client.send_message(message, to_addrs=[recipient])
            submitted.answered = True
            return
        # Flattened once, by our policy: send_message would copy the message and flatten it
        # again with a fresh clone of the policy, whose caches are empty.
        data = message.as_bytes(policy=WIRE_POLICY)
        if self._client.has_extn("pipelining"):
            start_pipelined(self._client, sender, recipient, data)
        else:
            start_sendmail(self._client, sender, recipient, data)
        submitted.answered = False

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def close(self) -> None:
        with self._lock:
            self._settle()
            client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()  # the server is gone already; nothing left to tell it


class Submitted:
    """A message handed to :meth:`SmtpSender.submit` whose server answer may not be read yet."""

    def __init__(self, sender: SmtpSender, notification: Notification, message: EmailMessage, *, reused: bool):
        self.notification = notification
        self.message = message
        self.reused = reused  # on a connection kept from before: a drop is retried once, on a new one
        self.answered = False
        self.failure: SendFailed | None = None
        self._sender = sender

    def result(self) -> None:
        """Return once the server accepted the message (its 250); raise :class:`SendFailed` if not."""
        self._sender.await_answer(self)
        if self.failure is not None:
            raise self.failure


def _data_lines(data: bytes) -> bytes:
    """The content as DATA carries it: leading dots doubled, CRLF at the end, then ".": as
    smtplib, without its ``(?m)^\\.`` regex (a quarter of the time)."""
    content = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
    return content + (b"" if content.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def start_sendmail(client: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """``sendmail`` up to the answer to the content, which :func:`_await_data_reply` reads:
    MAIL, RCPT and DATA one by one (no PIPELINING), each answer checked. Raises what
    ``sendmail`` raises."""
    options = [f"SIZE={len(data)}"] if client.does_esmtp and client.has_extn("size") else []
    code, reply = client.mail(sender, options)
    if code != 250:
        client.rset()
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = client.rcpt(recipient)
    if code not in (250, 251):
        client.rset()
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    client.putcmd("data")
    code, reply = client.getreply()
    if code != 354:
        client.rset()
        raise smtplib.SMTPDataError(code, reply)
    client.send(_data_lines(data))


def start_pipelined(client: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> None:
    """One message in two round trips instead of four (RFC 2920 PIPELINING): MAIL, RCPT
    and DATA in one write, then the content, whose answer :func:`_await_data_reply` reads.
    Raises what ``sendmail`` raises."""
    client.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii"))
    (mail_code, mail_reply), (rcpt_code, rcpt_reply), (data_code, data_reply) = (
        client.getreply(), client.getreply(), client.getreply())
    if data_code == 354 and (mail_code != 250 or rcpt_code not in (250, 251)):
        client.send(b".\r\n")  # a server that said "go ahead" anyway gets an empty message, refused below
        client.getreply()
    if mail_code != 250:
        client.rset()
        raise smtplib.SMTPSenderRefused(mail_code, mail_reply, sender)
    if rcpt_code not in (250, 251):
        client.rset()
        raise smtplib.SMTPRecipientsRefused({recipient: (rcpt_code, rcpt_reply)})
    if data_code != 354:
        client.rset()
        raise smtplib.SMTPDataError(data_code, data_reply)
    client.send(_data_lines(data))


def _await_data_reply(client: smtplib.SMTP | None, answered: bool) -> None:
    """The server's answer to a message's content: 250, or SMTPDataError."""
    if answered:
        return
    if client is None:
        raise smtplib.SMTPServerDisconnected("connection closed before the server answered")
    code, reply = client.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


# (connect, read) seconds: a slow kamer server or gateway must not hold the consumer long.
DEFAULT_HTTP_TIMEOUT = (3.05, 10.0)


class _HttpChannel:
    """One ``requests.Session`` (kept-alive connections), 2xx = delivered, anything else raises."""

    user_agent = "Mienskip-Notify/1"

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_HTTP_TIMEOUT):
        self._timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = self.user_agent
        self._lock = threading.Lock()

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise SendFailed("URL is not http(s)")
        try:
            with self._lock:
                # No redirects: a 3xx is not a delivery, and the signed body stays where it was sent.
                response = self._session.post(url, data=body, headers=headers, timeout=self._timeout,
                                              allow_redirects=False)
                response.close()
        except requests.RequestException as exc:
            raise SendFailed(safe_reason(exc)) from None
        if not 200 <= response.status_code < 300:
            raise SendFailed(f"HTTP {response.status_code}")

    def close(self) -> None:
        with self._lock:
            self._session.close()


class WebhookSender(_HttpChannel):
    """POSTs the JSON body to the kamer's URL, signed with the kamer's own secret (a care
    provider's with its own: the notification's ``signer``).

    ``secret_for(kamer_id or signer)`` gives the secret (see :func:`mienskip_notify.webhooks.kamer_secret`);
    None means no master key is configured, which fails the delivery with that reason.
    """

    def __init__(self, secret_for, timeout: float | tuple[float, float] = DEFAULT_HTTP_TIMEOUT, clock=None):
        super().__init__(timeout)
        self._secret_for = secret_for
        self._clock = clock

    def send(self, notification: Notification, body: bytes) -> None:
        secret = self._secret_for(notification.signer or notification.kamer_id)
        if not secret:
            raise SendFailed("no webhook signing key: set MIENSKIP_WEBHOOK_SECRET")
        now = self._clock() if self._clock is not None else None
        self._post(notification.destination, body, {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: signature_header(secret, body, now),
            "Mienskip-Notification-Id": notification.key,  # the same on every retry: dedupe on it
        })


class SmsSender(_HttpChannel):
    """``POST {"to", "text"}`` to the gateway with ``Authorization: Bearer <key>``.

    ``Idempotency-Key`` is the notification's key, so a gateway that honours it sends
    an SMS we had to repeat (a timeout after it accepted) only once.
    """

    def __init__(self, url: str, key: str, timeout: float | tuple[float, float] = DEFAULT_HTTP_TIMEOUT):
        super().__init__(timeout)
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError("SMS gateway URL must be http(s)")
        self._url = url
        self._key = key

    def send(self, notification: Notification, text: str) -> None:
        body = json.dumps({"to": notification.destination, "text": text}, ensure_ascii=False).encode("utf-8")
        self._post(self._url, body, {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"Bearer {self._key}",
            "Idempotency-Key": notification.key,
        })
