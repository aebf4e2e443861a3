"""The pages' words and formats: messages.json in nl (default), en and fy, the reader's
language, and dates, distances and matching's reasons as a reader in Leeuwarden expects."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import g, request, session

from mienskip_shared.contracts.vocabulary import DAYS

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


def bilingual(text: str | None) -> str:
    """Matching writes ``"Dutch / English"``; show the reader's half (Dutch for Frisian)."""
    if not text:
        return ""
    parts = text.split(" / ")
    if len(parts) != 2:
        return text
    return parts[1] if lang() == "en" else parts[0]


def url_with_lang(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"


class Words:
    """The UI's words; a missing word falls back to Dutch, then to its key."""

    def __init__(self, path: Path):
        self.table: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))

    def get(self, language: str, key: str, **values: Any) -> str:
        text = self.table.get(language, {}).get(key) or self.table["nl"].get(key) or key
        return text.format(**values) if values else text

    def __call__(self, key: str, **values: Any) -> str:
        """``_('flash.approved')``: the word in the reader's language."""
        return self.get(lang(), key, **values)

    def day(self, dt: datetime) -> str:
        d = local(dt)
        return f"{self('day.' + DAYS[d.weekday()])} {d.day} {self('month.' + str(d.month))}"

    def when(self, dt: datetime | None) -> str:
        return "—" if dt is None else f"{self.day(dt)} {local(dt):%H:%M}"

    def window(self, start: datetime, end: datetime) -> str:
        if local(start).date() == local(end).date():
            return f"{self.day(start)}, {local(start):%H:%M}–{local(end):%H:%M}"
        return f"{self.when(start)} – {self.when(end)}"

    def km(self, value: float | None) -> str:
        if value is None:
            return "—"
        text = f"{value:.1f}"
        return (text if lang() == "en" else text.replace(".", ",")) + " km"

    def slot(self, label: str | None) -> str:
        """Matching's ``"mon 08:00-18:00"`` with the day in the reader's language."""
        if not label:
            return ""
        first, _sep, rest = label.partition(" ")
        return f"{self('day.' + first)} {rest.replace('-', '–')}" if first in DAYS else label

    def reasons(self, counts: dict[str, int]) -> str:
        return ", ".join(f"{n} × {self('reason.' + key)}" for key, n in counts.items()) or "—"

    def for_templates(self) -> dict[str, Any]:
        return {"_": self, "lang": lang(), "languages": UI_LANGUAGES, "when": self.when, "window": self.window,
                "km": self.km, "day": self.day, "bilingual": bilingual, "reasons": self.reasons, "slot": self.slot,
                "url_with_lang": url_with_lang}
