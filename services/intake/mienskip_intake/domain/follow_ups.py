"""The resident's answer to "did the help come? do you need more help?" (issue 17), asked
by notify with a signed link a few days after the task. The first answer counts; a "no"
or "more" goes to the kamer's attention list. Stdlib only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_TEXT = 500  # the optional short text


class Answer(StrEnum):
    YES = "yes"  # the help came, nothing more needed
    NO = "no"  # the help did not come
    MORE = "more"  # it came, and they need more


NEEDS_THE_KAMER = frozenset({Answer.NO, Answer.MORE})


@dataclass(frozen=True)
class FollowUp:
    request_id: str
    assignment_id: str
    kamer_id: str
    answer: str  # an Answer value
    text: str | None
    answered_at: datetime

    @property
    def needs_the_kamer(self) -> bool:
        return self.answer in NEEDS_THE_KAMER


def clean_text(text: str | None) -> str | None:
    """The resident's short text: trimmed, at most :data:`MAX_TEXT` characters, None if empty."""
    text = (text or "").strip()[:MAX_TEXT]
    return text or None
