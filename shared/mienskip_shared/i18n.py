"""Words in the reader's language: one gettext catalogue per service, read with Babel.

Each service keeps ``<lang>.po`` files (nl, fy, en) beside its code; message ids are
keys (``reason.distance``), texts use ``{name}`` placeholders (``#, python-brace-format``).
Numbers given as parameters are written the reader's way (``1,3`` in nl and fy, ``1.3``
in en). A missing text falls back to Dutch, then to the key itself, so a gap shows up
as a key on the page rather than as an error.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LANGUAGES = ("nl", "fy", "en")
DEFAULT_LANGUAGE = "nl"


def reader_language(wanted: str | None) -> str:
    """One of ours for any language code: a Dutch default for the ones we do not write in."""
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def as_written(date_text: str, language: str) -> str:
    """A date Babel wrote, as the language writes it: CLDR capitalises Frisian month names
    (``1 Desimber``, ``Des``); Frisian writes them in lower case."""
    if reader_language(language) != "fy":
        return date_text
    for name in _frisian_month_names():
        date_text = date_text.replace(name, name.lower())
    return date_text


@functools.cache
def _frisian_month_names() -> tuple[str, ...]:
    """CLDR's Frisian month names, wide before abbreviated ("Jannewaris" before "Jan")."""
    months = Locale.parse("fy").months["format"]
    return tuple(name for width in ("wide", "abbreviated") for name in months[width].values())


def decimal(value: float, language: str, digits: int = 1) -> str:
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=reader_language(language))


class Catalogue:
    def __init__(self, directory: Path):
        self._texts: dict[str, dict[str, str]] = {}
        for language in LANGUAGES:
            with (directory / f"{language}.po").open("rb") as handle:
                catalog = read_po(handle, locale=language)
            self._texts[language] = {m.id: m.string for m in catalog if m.id and m.string}

    def keys(self, language: str) -> frozenset[str]:
        return frozenset(self._texts[language])

    def has(self, key: str) -> bool:
        return key in self._texts[DEFAULT_LANGUAGE]

    def text(self, language: str, key: str, **params: Any) -> str:
        language = reader_language(language)
        template = self._texts[language].get(key) or self._texts[DEFAULT_LANGUAGE].get(key) or key
        return template.format(**_written(params, language)) if params else template

    def phrases(self, language: str, groups: Sequence[Sequence[tuple[str, Mapping[str, Any]]]]) -> str:
        """Groups of (key, parameters) in words, joined by "; " and ", " (see
        ``contracts.matching.unmatched_summary``); a ``reason`` parameter is a reason code,
        worded with ``reason.<code>``."""
        def one(key: str, params: Mapping[str, Any]) -> str:
            worded = {name: self.text(language, f"reason.{value}") if name == "reason" else value
                      for name, value in params.items()}
            return self.text(language, key, **worded)

        return "; ".join(", ".join(one(key, params) for key, params in group) for group in groups)


def _written(params: Mapping[str, Any], language: str) -> dict[str, Any]:
    return {name: decimal(value, language) if isinstance(value, float)
            else decimal(value, language, 0) if isinstance(value, int) and not isinstance(value, bool)
            else value for name, value in params.items()}
