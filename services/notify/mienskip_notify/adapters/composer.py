"""Turning a notification into what its channel carries: a MIME message (e-mail and
mailbox), a JSON body (webhook) or a short text (SMS). Jinja2 templates, UTF-8."""

from __future__ import annotations

import binascii
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.header import Header
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..domain.channels import EMAIL, MAILBOX, SMS, WEBHOOK
from ..domain.contacts import KAMER
from ..domain.languages import message_language
from ..domain.notifications import Notification

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    """``<template>.<lang>.txt.j2`` (which also sets ``subject``) and ``<template>.<lang>.html.j2``."""

    def __init__(self, directory: Path = TEMPLATES_DIR):
        self._env = Environment(
            loader=FileSystemLoader(str(directory), encoding="utf-8"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=StrictUndefined,  # a missing value is a bug, not an empty line in a letter
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
        lang = message_language(language)
        text_module = self._env.get_template(f"{template}.{lang}.txt.j2").make_module(dict(context))
        # one line, always: a newline in a header would let event data forge headers
        subject = " ".join(str(text_module.subject).split())
        html = self._env.get_template(f"{template}.{lang}.html.j2").render(
            {**context, "subject": subject, "language": lang}
        )
        return RenderedMessage(subject=subject, text=str(text_module), html=html)

    def render_sms(self, template: str, language: str, context: Mapping[str, Any]) -> str:
        """``<template>.<lang>.sms.j2``: short plain text, surrounding whitespace trimmed."""
        lang = message_language(language)
        return self._env.get_template(f"{template}.{lang}.sms.j2").render(dict(context)).strip()


class CachingHeaderRegistry(HeaderRegistry):
    """The standard registry builds a new header class on *every* header set or read
    (``type(...)`` in ``__getitem__``): a quarter of composing a message. Same classes, made once."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 -- one registry per policy, kept for the process
    def __getitem__(self, name):
        return super().__getitem__(name)


class MailPolicy(EmailPolicy):
    """``email.policy.default``, except that Message-ID stays on one line.

    ``Message-ID: <64 hex digits@mienskip>`` is 87 characters; the default policy would
    fold it onto a continuation line. Legal, but some parsers keep the leading space and
    then fail to match it; RFC 5322 allows lines up to 998 characters.
    """

    def fold(self, name, value):
        if name.lower() == "message-id":
            return f"{name}: {str(value).strip()}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() == "message-id":
            return self.fold(name, value).encode("ascii")
        return super().fold_binary(name, value)


MAIL_POLICY = MailPolicy(header_factory=CachingHeaderRegistry())
WIRE_POLICY = MAIL_POLICY.clone(linesep="\r\n")  # what SMTP carries, and what .eml files hold


def message_id(notification: Notification) -> str:
    """Deterministic, so a message sent twice after a crash is one message to mail clients."""
    return f"<{notification.key}@mienskip>"


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass(frozen=True)
class WireMail:
    """An e-mail as it goes on the wire (CRLF, 7-bit): what :meth:`MessageComposer.compose_email`
    makes for the usual message. ``message["Subject"]`` reads a header back, decoded."""

    envelope_from: str
    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def as_bytes(self, policy=None) -> bytes:  # noqa: ARG002 -- the EmailMessage signature; already wire form
        return self.data


def encode_subject(subject: str) -> str:
    """The Subject header's value on the wire, lines <= 78: RFC 2047 encoded words
    (UTF-8, base64, whole characters per word) when it is not ASCII, else folded at spaces."""
    if subject.isascii():
        return Header(subject, "us-ascii", header_name="Subject").encode(linesep="\r\n", maxlinelen=78)
    words, chunk = [], b""
    for char in subject:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > 39:  # 39 bytes -> 52 base64 characters: 73 with "Subject: "
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{binascii.b2a_base64(word, newline=False).decode()}?=" for word in words)


def _ascii(*values: str) -> bool:
    return all(value.isascii() and "\r" not in value and "\n" not in value for value in values)


def _quoted_printable(text: str) -> bytes:
    """The body as ``set_content(..., cte="quoted-printable")`` writes it: lines ending in
    LF, a final LF, UTF-8, quoted-printable (lines <= 76), then CRLF for the wire."""
    body = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    return binascii.b2a_qp(body, istext=True).replace(b"\n", b"\r\n")


class MessageComposer:
    def __init__(self, mail_from: str, renderer: TemplateRenderer | None = None):
        self._mail_from = mail_from
        self._renderer = renderer or TemplateRenderer()

    def compose(self, notification: Notification, *, now: datetime | None = None):
        """What ``notification``'s channel sends: EmailMessage, JSON bytes or SMS text."""
        if notification.channel in (EMAIL, MAILBOX):
            return self.compose_email(notification, now=now)
        if notification.channel == WEBHOOK:
            return self.compose_webhook(notification)
        if notification.channel == SMS:
            return self._renderer.render_sms(notification.template, notification.language, notification.context)
        raise ValueError(f"no composer for channel {notification.channel!r}")

    def compose_webhook(self, notification: Notification) -> bytes:
        """The JSON body: the event, and the message the kamer would read, in its language.

        Deterministic for a notification (no send time in it): ``id`` and body are the same
        on every retry, so the kamer's system can drop a repeat.
        """
        rendered = self._renderer.render(notification.template, notification.language, notification.context)
        body = {
            "id": notification.key,
            "kamer_id": notification.kamer_id,
            "request_id": notification.request_id,
            "language": notification.language,
            "subject": rendered.subject,
            "text": rendered.text,
            **(notification.payload or {}),
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode("utf-8")

    def compose_email(self, notification: Notification, *, now: datetime | None = None) -> WireMail | EmailMessage:
        """The message in its wire form, written directly: building it with ``email.message``
        and flattening it took four fifths of sending one. Addresses or ids that are not
        plain ASCII take the ``email.message`` way (:meth:`compose_email_message`)."""
        rendered = self._renderer.render(notification.template, notification.language, notification.context)
        to = self._to(notification)
        if not _ascii(self._mail_from, to or "", notification.kamer_id, notification.language):
            return self.compose_email_message(notification, rendered, now=now)
        subject = rendered.subject
        headers = {"subject": subject, "from": self._mail_from, "message-id": message_id(notification)}
        head = [f"Subject: {encode_subject(subject)}", f"From: {self._mail_from}"]
        if to:
            head.append(f"To: {to}")
            headers["to"] = to
        boundary = f"=_mienskip_{notification.key[:32]}"  # '=_' never occurs in quoted-printable
        head += [
            f"Date: {format_datetime(now or datetime.now(UTC))}",
            f"Message-ID: {message_id(notification)}",
            "Auto-Submitted: auto-generated",  # RFC 3834: no vacation replies to us
            f"X-Mienskip-Kamer: {notification.kamer_id}",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
            f"Content-Language: {notification.language}",
        ]
        part = 'Content-Type: text/{}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'
        data = b"".join([
            "\r\n".join(head).encode("ascii"), b"\r\n\r\n",
            f"--{boundary}\r\n{part.format('plain')}".encode("ascii"), _quoted_printable(rendered.text),
            # the CRLF before a boundary belongs to the boundary, not to the body before it
            f"\r\n--{boundary}\r\n{part.format('html')}".encode("ascii"), _quoted_printable(rendered.html),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        ])
        return WireMail(envelope_from=parseaddr(self._mail_from)[1], data=data, headers=headers)

    def _to(self, notification: Notification) -> str | None:
        if notification.channel == EMAIL:
            return notification.destination
        if notification.recipient_kind != KAMER and notification.recipient:
            return notification.recipient  # a person's copy in the demo mailbox: whose it is
        return None

    def compose_email_message(self, notification: Notification, rendered: RenderedMessage | None = None, *,
                              now: datetime | None = None) -> EmailMessage:
        """The same message built with ``email.message`` (any address, any id)."""
        rendered = rendered or self._renderer.render(notification.template, notification.language,
                                                     notification.context)
        message = EmailMessage(policy=MAIL_POLICY)
        message["Subject"] = rendered.subject
        message["From"] = self._mail_from
        to = self._to(notification)
        if to:
            message["To"] = to
        message["Date"] = format_datetime(now or datetime.now(UTC))
        message["Message-ID"] = message_id(notification)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
        message["X-Mienskip-Kamer"] = notification.kamer_id
        # quoted-printable keeps every line 7-bit clean for any relay, emoji included
        message.set_content(rendered.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        message.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="quoted-printable")
        message["Content-Language"] = notification.language  # after set_content, which drops Content-*
        return message
