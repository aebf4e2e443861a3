"""The pages' words and formats: intake's catalogue (``mienskip_intake.catalogue``) in nl
(default), en and fy, the reader's language, and dates (Babel's CLDR forms), distances and
matching's reasons as a reader in Leeuwarden expects."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_day_names
from flask import g, request, session

from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.i18n import Catalogue, as_written, decimal

from ..wording import conflict_why, history_note, runner_up_why, unmatched_words

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UI_LANGUAGES = ("nl", "en", "fy")


def lang() -> str:
    """The reader's language: a link page's own, else the one chosen this session, else Dutch."""
    return g.get("lang") or session.get("lang") or "nl"


def remember_chosen_language() -> None:
    """Staff pages: ``?lang=`` sticks for the session (an unknown one changes nothing)."""
    wanted = request.args.get("lang")
    if wanted in UI_LANGUAGES:
        session["lang"] = wanted


def note_link_language() -> None:
    """A volunteer's link page keeps no session: ``?lang=`` holds for this page only."""
    wanted = request.args.get("lang")
    g.link_lang = wanted if wanted in UI_LANGUAGES else None


def local(dt: datetime | None) -> datetime | None:
    return dt.astimezone(AMSTERDAM) if dt is not None else None


def url_with_lang(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"


class Words:
    """The UI's words from the catalogue; a missing word falls back to Dutch, then to its key."""

    def __init__(self, catalogue: Catalogue):
        self.catalogue = catalogue

    def get(self, language: str, key: str, **values: Any) -> str:
        return self.catalogue.text(language, key, **values)

    def __call__(self, key: str, **values: Any) -> str:
        """``_('flash.approved')``: the word in the reader's language."""
        return self.get(lang(), key, **values)

    @staticmethod
    def _format(dt: datetime, pattern: str) -> str:
        return as_written(format_datetime(dt, pattern, tzinfo=AMSTERDAM, locale=lang()), lang())

    def day(self, dt: datetime) -> str:
        """``di 1 dec``, ``Tue 1 Dec``, ``ti 1 des``."""
        return self._format(dt, "EEE d MMM")

    def when(self, dt: datetime | None) -> str:
        return "—" if dt is None else self._format(dt, "EEE d MMM HH:mm")

    def window(self, start: datetime, end: datetime) -> str:
        if local(start).date() == local(end).date():
            return f"{self.day(start)}, {self._format(start, 'HH:mm')}–{self._format(end, 'HH:mm')}"
        return f"{self.when(start)} – {self.when(end)}"

    def weekday(self, code: str) -> str:
        """``tue`` (DOMAIN.md's days) -> ``di``, ``Tue``, ``ti``; anything else as it is."""
        return get_day_names("abbreviated", locale=lang())[DAYS.index(code)] if code in DAYS else code

    def km(self, value: float | None) -> str:
        return "—" if value is None else f"{decimal(value, lang())} km"

    def slot(self, label: str | None) -> str:
        """Matching's ``"mon 08:00-18:00"`` with the day in the reader's language."""
        if not label:
            return ""
        first, _sep, rest = label.partition(" ")
        return f"{self.weekday(first)} {rest.replace('-', '–')}" if first in DAYS else label

    def runner_up_why(self, runner_up: Mapping[str, Any]) -> str:
        """Why matching's runner-up lost, in the reader's language."""
        return runner_up_why(self.catalogue, lang(), runner_up)

    def unmatched(self, reasons: Mapping[str, int] | None, considered: int | None = None) -> str:
        """Why nobody was proposed: ``3 vrijwilligers hebben de vaardigheid; 2 × te ver weg``."""
        return unmatched_words(self.catalogue, lang(), reasons, considered) or "—"

    def history_note(self, code: str | None, params: Mapping[str, Any] | None, note: str | None) -> str:
        """A history entry's note in the reader's language (an old entry: its sentence)."""
        return history_note(self.catalogue, lang(), code, params, note)

    def conflict(self, code: str, params: Mapping[str, Any]) -> str:
        """Why a step was refused (409), in the reader's language."""
        return conflict_why(self.catalogue, lang(), code, params)

    def for_templates(self) -> dict[str, Any]:
        return {"_": self, "lang": lang(), "languages": UI_LANGUAGES, "when": self.when, "window": self.window,
                "km": self.km, "day": self.day, "weekday": self.weekday,
                "runner_up_why": self.runner_up_why, "unmatched": self.unmatched, "slot": self.slot,
                "history_note": self.history_note, "url_with_lang": url_with_lang}
