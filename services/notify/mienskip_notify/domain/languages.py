"""The languages notify writes messages in, and what to do with any other."""

from __future__ import annotations

SUPPORTED_LANGUAGES = ("nl", "fy", "en")
DEFAULT_LANGUAGE = "nl"  # every kamer reads Dutch; a message in it beats no message


def message_language(preferred: str | None) -> str:
    """The language to write in for someone who prefers ``preferred``.

    Accepts ISO 639-1 codes, also with a region (``en-GB``, ``fy_NL``); anything we
    have no templates for falls back to Dutch.
    """
    if not preferred:
        return DEFAULT_LANGUAGE
    base = preferred.strip().replace("_", "-").split("-", 1)[0].lower()
    return base if base in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
