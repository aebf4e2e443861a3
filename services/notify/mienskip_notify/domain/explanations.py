"""Matching's reasons, as the kamer reads them in a message: why a volunteer was
proposed (the proposal's ``explanation``), and why nobody was (an unmatched request's
``reasons`` and the volunteers ``considered``).

Matching sends codes with parameters (``{"code": "further", "km": 1.3}``); the words are
notify's own, in the reader's language, from its catalogue (``catalogue/<lang>.po``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.dates import get_day_names

from mienskip_shared.contracts.matching import runner_up_phrase, unmatched_summary
from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.i18n import Catalogue

from .formatting import category_text
from .languages import message_language

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"


@functools.cache
def catalogue() -> Catalogue:
    return Catalogue(CATALOGUE_DIR)


def proposal_explanation(data: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The explaining part of a proposal message's context."""
    return {"why": why_lines(data.get("explanation") or {}, language)}


def unmatched_explanation(data: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The explaining part of an unmatched request message's context."""
    lang = message_language(language)
    reasons = data.get("reasons") or {}
    words = catalogue()
    return {
        "summary": words.phrases(lang, unmatched_summary(reasons, data.get("considered"))),
        # most exclusions first, so the main reason leads
        "reasons": [(words.text(lang, f"reason.{code}"), count)
                    for code, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))],
    }


def decline_reason_text(code: str, language: str) -> str:
    """Why an assignment was declined when the volunteer did not say no themselves."""
    return catalogue().text(message_language(language), f"decline.{code}")


def why_lines(explanation: Mapping[str, Any], language: str) -> list[str]:
    """Distance, skills, the weekly slot, this week's load, continuity and the runner-up,
    each a line in the reader's language; what the explanation leaves out is left out."""
    lang = message_language(language)
    words = catalogue()
    lines = []
    if explanation.get("distance_km") is not None:
        lines.append(words.text(lang, "why.distance", km=float(explanation["distance_km"])))
    if explanation.get("skills_matched"):
        skills = ", ".join(category_text(skill, lang) for skill in explanation["skills_matched"])
        lines.append(words.text(lang, "why.skills", skills=skills))
    if explanation.get("availability"):
        lines.append(words.text(lang, "why.available", slot=_slot_text(explanation["availability"], lang)))
    if explanation.get("max_tasks_per_week"):
        lines.append(words.text(lang, "why.load", n=int(explanation.get("load_this_week") or 0),
                                max=int(explanation["max_tasks_per_week"])))
    if "continuity" in explanation:
        lines.append(words.text(lang, "why.continuity" if explanation["continuity"] else "why.no_continuity"))
    if "runner_up" in explanation:
        lines.append(_runner_up_line(explanation["runner_up"], lang))
    return lines


def _runner_up_line(runner_up: Mapping[str, Any] | None, lang: str) -> str:
    words = catalogue()
    if not runner_up:
        return words.text(lang, "why.no_runner_up")
    phrase = runner_up_phrase(runner_up)
    cause = words.text(lang, phrase[0], **phrase[1]) if phrase else ""
    return words.text(lang, "why.runner_up", km=float(runner_up.get("distance_km") or 0.0), cause=cause)


def _slot_text(label: str, lang: str) -> str:
    """Matching's ``"tue 09:00-12:00"`` with the day in the reader's language."""
    day, _sep, hours = label.partition(" ")
    if day not in DAYS:
        return label
    name = get_day_names("wide", locale=lang)[DAYS.index(day)]
    return f"{name} {hours.replace('-', '–')}"
