"""Codes into words, at the edge: what the pages and the API say about matching's reasons
and in a request's history, in the reader's language, from intake's catalogue (STYLE.md
rule 14).

Matching sends codes (``{"code": "further", "km": 1.3}``, ``{"distance": 2}``); intake
stores them as they came and words them only when someone reads them. Explanations
stored before codes existed carry matching's own sentence instead: that is shown as it
was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import has_request_context, request

from mienskip_shared.contracts.matching import runner_up_phrase, unmatched_summary
from mienskip_shared.i18n import DEFAULT_LANGUAGE, LANGUAGES, Catalogue

from ..domain.model import Note


def caller_language() -> str:
    """An API caller's language: the best of nl, fy and en their ``Accept-Language`` allows,
    else Dutch."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)


def runner_up_why(catalogue: Catalogue, language: str, runner_up: Mapping[str, Any]) -> str:
    """Why the runner-up lost: the hard rule that stopped them (``reason.<rule>``), else
    matching's cause (``cause.<code>``, km written the reader's way)."""
    phrase = runner_up_phrase(runner_up)
    if phrase is None:
        return runner_up.get("why") or ""  # stored before reasons travelled as codes
    key, params = phrase
    return catalogue.text(language, key, **params)


def unmatched_words(catalogue: Catalogue, language: str, reasons: Mapping[str, int] | None,
                    considered: int | None = None) -> str:
    """``3 volunteers have the skill; 2 × too far`` (see ``contracts.matching.unmatched_summary``)."""
    return catalogue.phrases(language, unmatched_summary(dict(reasons or {}), considered))


# History note parameters that are codes themselves, and the catalogue family that words them.
_CODED_PARAMS = {"wanted": "status", "current": "status", "assignment_status": "status", "was": "status",
                 "recipient_kind": "recipient", "channel": "channel", "template": "template",
                 "answer": "followup.answer"}


def history_note(catalogue: Catalogue, language: str, code: str | None, params: Mapping[str, Any] | None,
                 note: str | None) -> str:
    """A history entry's note as its reader sees it: what intake said (``history.<code>``,
    its parameters worded too), then any free text a person typed or another system sent.
    An entry from before codes has only its sentence, shown as it is."""
    said = None
    if code:
        worded = dict(params or {})
        if code == Note.UNMATCHED:
            summary = unmatched_words(catalogue, language, worded.get("reasons"), worded.get("considered"))
            worded = {"summary": summary}
        for name, family in _CODED_PARAMS.items():
            if name in worded and catalogue.has(f"{family}.{worded[name]}"):
                worded[name] = catalogue.text(language, f"{family}.{worded[name]}")
        said = catalogue.text(language, f"history.{code}", **worded)
    return " — ".join(part for part in (said, note) if part)


def conflict_why(catalogue: Catalogue, language: str, code: str, params: Mapping[str, Any]) -> str:
    """Why a step is refused (409): ``conflict.<code>``, statuses in words."""
    worded = {name: catalogue.text(language, f"status.{value}") if name in ("current", "wanted", "status")
              else value for name, value in params.items()}
    return catalogue.text(language, f"conflict.{code}", **worded)


def with_runner_up_why(catalogue: Catalogue, language: str,
                       explanation: Mapping[str, Any] | None) -> dict[str, Any]:
    """An explanation as the API shows it: as stored (codes included), plus the runner-up's
    ``why`` in the caller's language, for clients that showed matching's old sentence."""
    shown = dict(explanation or {})
    runner_up = shown.get("runner_up")
    if runner_up:
        shown["runner_up"] = {**runner_up, "why": runner_up_why(catalogue, language, runner_up)}
    return shown
