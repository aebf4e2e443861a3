"""Turning a notification into what its channel carries: a MIME message (e-mail and
mailbox), a JSON body (webhook) or a short text (SMS). Jinja2 templates, UTF-8; the
notification's facts are worded in its reader's language first (``wording``)."""

from __future__ import annotations

import binascii
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email.contentmanager import ContentManager, raw_data_manager, set_text_content
from email.headerregistry import HeaderRegistry, UniqueUnstructuredHeader
from email.message import EmailMessage, MIMEPart
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mienskip_shared.clock import utcnow

from ..domain.channels import EMAIL, MAILBOX, SMS, WEBHOOK
from ..domain.contacts import KAMER
from ..domain.languages import message_language
from ..domain.notifications import Notification
from .wording import template_values

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


class TemplateRenderer:
    """``<template>.<lang>.txt.j2`` (which also sets ``subject``) and ``<template>.<lang>.html.j2``,
    rendered with the context's facts in words."""

    def __init__(self, directory: Path = TEMPLATES_DIR):
        self._env = Environment(
            loader=FileSystemLoader(str(directory), encoding="utf-8"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
            undefined=StrictUndefined,  # a missing value is a bug, not an empty line in a letter
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # templates ship with the code: no stat() of each file per message
        )

    def render(self, template: str, language: str, context: Mapping[str, Any]) -> RenderedMessage:
        lang = message_language(language)
        context = template_values(context, lang)
        text_module = self._template(template, lang, "txt").make_module(context)
        # one line, always: a newline in a header would let event data forge headers
        subject = " ".join(str(text_module.subject).split())
        html = self._template(template, lang, "html").render(
            {**context, "subject": subject, "language": lang}
        )
        return RenderedMessage(subject=subject, text=str(text_module), html=html)

    def render_sms(self, template: str, language: str, context: Mapping[str, Any]) -> str:
        """``<template>.<lang>.sms.j2``: short plain text, surrounding whitespace trimmed."""
        lang = message_language(language)
        return self._template(template, lang, "sms").render(template_values(context, lang)).strip()

    def _template(self, template: str, lang: str, kind: str):
        """``<template>.<lang>.<kind>.j2``, or else ``<template>.<kind>.j2``: one template
        for every language, its sentences from the catalogue (``say``, see ``wording``)."""
        return self._env.select_template([f"{template}.{lang}.{kind}.j2", f"{template}.{kind}.j2"])


# Text an unstructured header holds as it is: no control characters, no encoded word.
_PLAIN_TEXT = re.compile(r"(?:(?!=\?)[^\x00-\x1f\x7f])*")
# A word that goes on a line as it is: printable ASCII, no encoded word.
_PLAIN_WORD = re.compile(r"(?:(?!=\?)[!-~])+")


class SubjectHeader(UniqueUnstructuredHeader):
    """Subject, with the parse and fold that a new subject in every message costs cut short.

    A subject recurs except for its last word (``... – hulpvraag <request id>``): parsed and
    folded whole, that cost a kamer's review message about 90 µs of the 270-300 µs it took.
    Plain text (as our templates write subjects) is its own decoded value, so it is not
    parsed when set. When folded by a ``MailPolicy``, the head is folded once per policy
    (cached) and the last word put after it as the standard fold puts a word after a
    non-ASCII head: on the last line if it fits, else on a continuation line. Anything
    else takes the standard way; the bytes are the standard fold's either way (a test
    compares them)."""

    @classmethod
    def parse(cls, value, kwds):
        if _PLAIN_TEXT.fullmatch(value):
            kwds["parse_tree"] = None  # made only if the standard fold is needed
            kwds["decoded"] = value
            return
        super().parse(value, kwds)

    def fold(self, *, policy):
        text = str(self)
        head, _space, last = text.rpartition(" ")
        # An all-ASCII subject the standard fold may move to a line of its own, and with
        # utf8 nothing is encoded: both as the standard does it.
        if (self._parse_tree is None and isinstance(policy, MailPolicy) and not policy.utf8
                and policy.max_line_length and not text.isascii() and head and not head[-1].isspace()
                and _PLAIN_WORD.fullmatch(last)):
            folded_head = policy.folded_subject_head(self.name, head)
            last_line = folded_head.rpartition(policy.linesep)[2]
            if len(last_line) + 1 + len(last) <= policy.max_line_length:
                return f"{folded_head} {last}{policy.linesep}"
            if 1 + len(last) <= policy.max_line_length:
                return f"{folded_head}{policy.linesep} {last}{policy.linesep}"
        return self.standard_fold(policy)

    def standard_fold(self, policy) -> str:
        if self._parse_tree is None:
            self._parse_tree = self.value_parser(str(self))
        return super().fold(policy=policy)


class CachingHeaderRegistry(HeaderRegistry):
    """The standard registry builds a new header class on *every* header set or read
    (``type(...)`` in ``__getitem__``): a quarter of composing a message. Same classes, made
    once; Subject is a ``SubjectHeader``."""

    def __init__(self):
        super().__init__()
        self.map_to_type("subject", SubjectHeader)

    @functools.lru_cache(maxsize=64)  # noqa: B019 -- one registry per policy, kept for the process
    def __getitem__(self, name):
        return super().__getitem__(name)


_UNSET = object()
_OUR_MESSAGE_ID = re.compile(r"<[0-9a-f]{1,64}@mienskip>")  # what message_id() writes


class MailPolicy(EmailPolicy):
    """``email.policy.default``, except that Message-ID stays on one line, and that header
    work which repeats from message to message is done once per policy.

    ``Message-ID: <64 hex digits@mienskip>`` is 87 characters; the default policy would
    fold it onto a continuation line. Legal, but some parsers keep the leading space and
    then fail to match it; RFC 5322 allows lines up to 998 characters.

    Parsing a header value into a header object and folding it back into a line was about
    three fifths of composing and flattening a message, and most values recur: From, To, the
    content headers, Date within a second. Header objects are immutable and a folded line
    depends only on the header and the policy, so both are cached. Message-ID is unique to
    each message and is not.
    """

    def clone(self, **kw):
        # The generator clones the policy for every part it writes, nearly always to the
        # settings it already has; an immutable policy can be its own clone, caches and all.
        if all(getattr(self, name, _UNSET) == value for name, value in kw.items()):
            return self
        return super().clone(**kw)

    def header_store_parse(self, name, value):
        if name.lower() == "message-id":
            if isinstance(value, str) and _OUR_MESSAGE_ID.fullmatch(value):
                # Kept as text, as a parsed message keeps its headers (it is parsed when read):
                # parsing our own id, new in every message, was a tenth of composing one.
                return (name, value)
            return super().header_store_parse(name, value)
        if isinstance(value, str) and not hasattr(value, "name"):
            return self._parsed(name, value)
        return super().header_store_parse(name, value)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 -- two policies, kept for the process
    def _parsed(self, name, value):
        return super().header_store_parse(name, value)  # a value with a line break raises, uncached

    def fold(self, name, value):
        if name.lower() == "message-id":
            return f"{name}: {str(value).strip()}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name, value):
        if name.lower() == "message-id":
            return self.fold(name, value).encode("ascii")
        if hasattr(value, "name"):  # a header object; a parsed message's source lines are not cached
            return self._folded_binary(name, value)
        return super().fold_binary(name, value)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 -- as above
    def _folded_binary(self, name, value):
        return super().fold_binary(name, value)

    @functools.lru_cache(maxsize=256)  # noqa: B019 -- as above
    def folded_subject_head(self, name: str, head: str) -> str:
        """``name: head`` folded the standard way, without its final line end (see ``SubjectHeader``)."""
        return self.header_factory(name, head).standard_fold(self)[:-len(self.linesep)]


def _set_text(msg, string, subtype="plain", charset="utf-8", cte=None, **options):
    """``set_content`` for a str as the standard handler does it, except that UTF-8
    quoted-printable is encoded by binascii's C codec (what ``quopri`` uses) instead of
    ``quoprimime`` in Python: that, and re-parsing Content-Type to add the charset, were
    about 30 % of composing and flattening a message. Same headers and line ends; soft line
    breaks at 76 characters (RFC 2045) instead of 78. Anything else takes the standard handler."""
    if cte != "quoted-printable" or charset != "utf-8" or any(v is not None for v in options.values()):
        return set_text_content(msg, string, subtype, charset, cte, **options)
    body = b"\n".join(string.encode("utf-8").splitlines()) + b"\n"  # as set_text_content: LF, one at the end
    msg["Content-Type"] = f'text/{subtype}; charset="utf-8"'
    msg["Content-Transfer-Encoding"] = "quoted-printable"
    msg.set_payload(binascii.b2a_qp(body, istext=True).decode("ascii"))
    return None


CONTENT_MANAGER = ContentManager()  # raw_data_manager's handlers, str's replaced
CONTENT_MANAGER.get_handlers.update(raw_data_manager.get_handlers)
CONTENT_MANAGER.set_handlers.update(raw_data_manager.set_handlers)
CONTENT_MANAGER.add_set_handler(str, _set_text)

MAIL_POLICY = MailPolicy(header_factory=CachingHeaderRegistry(), content_manager=CONTENT_MANAGER)
WIRE_POLICY = MAIL_POLICY.clone(linesep="\r\n")  # what SMTP carries, and what .eml files hold


def message_id(notification: Notification) -> str:
    """Deterministic, so a message sent twice after a crash is one message to mail clients."""
    return f"<{notification.key}@mienskip>"


# Fixed, and safe to be: "=_" cannot occur in a quoted-printable body (there every "=" is
# "=3D" or ends a line), so no part can contain the boundary, and the generator need not
# make a random one, search the parts for it and re-set Content-Type on every message.
ALTERNATIVE_BOUNDARY = "=_mienskip_alternative"


def _text_part(content: str, subtype: str) -> MIMEPart:
    part = MIMEPart(policy=MAIL_POLICY)  # a part, so no MIME-Version of its own
    part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
    return part


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class MessageComposer:
    def __init__(self, mail_from: str, renderer: TemplateRenderer | None = None):
        self._mail_from = mail_from
        self._renderer = renderer or TemplateRenderer()

    def compose(self, notification: Notification, *, now: datetime | None = None):
        """What ``notification``'s channel sends: an EmailMessage, JSON bytes or SMS text."""
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

    def compose_email(self, notification: Notification, *, now: datetime | None = None) -> EmailMessage:
        """The e-mail: text and HTML alternatives, UTF-8, quoted-printable (every line 7-bit
        clean for any relay, emoji included); the policy encodes and folds the headers."""
        rendered = self._renderer.render(notification.template, notification.language, notification.context)
        message = EmailMessage(policy=MAIL_POLICY)
        message["Subject"] = rendered.subject
        message["From"] = self._mail_from
        to = self._to(notification)
        if to:
            message["To"] = to
        message["Date"] = format_datetime(now or utcnow())
        message["Message-ID"] = message_id(notification)
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
        message["X-Mienskip-Kamer"] = notification.kamer_id
        message["MIME-Version"] = "1.0"
        message.make_alternative(boundary=ALTERNATIVE_BOUNDARY)
        message.attach(_text_part(rendered.text, "plain"))
        message.attach(_text_part(rendered.html, "html"))
        message["Content-Language"] = notification.language  # after make_alternative, which moves Content-*
        return message

    def _to(self, notification: Notification) -> str | None:
        if notification.channel == EMAIL:
            return notification.destination
        if notification.recipient_kind != KAMER and notification.recipient:
            return notification.recipient  # a person's copy in the demo mailbox: whose it is
        return None
