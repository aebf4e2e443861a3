"""Codes into words, at the edge: what the pages and the API say about matching's reasons,
in the reader's language, from intake's catalogue (STYLE.md rule 14).

Matching sends codes (``{"code": "further", "km": 1.3}``, ``{"distance": 2}``); intake
stores them as they came and words them only when someone reads them. Explanations
stored before codes existed carry matching's own sentence instead: that is shown as it
was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mienskip_shared.contracts.matching import unmatched_summary
from mienskip_shared.i18n import Catalogue


def runner_up_why(words: Catalogue, language: str, runner_up: Mapping[str, Any]) -> str:
    """Why the runner-up lost: the hard rule that stopped them (``reason.<rule>``), else
    matching's cause (``cause.<code>``, km written the reader's way)."""
    if runner_up.get("rule"):
        return words.text(language, f"reason.{runner_up['rule']}")
    reason = runner_up.get("reason") or {}
    if reason.get("code"):
        km = reason.get("km")
        return words.text(language, f"cause.{reason['code']}", km="?" if km is None else float(km))
    return runner_up.get("why") or ""  # stored before reasons travelled as codes


def unmatched_words(words: Catalogue, language: str, reasons: Mapping[str, int] | None,
                    considered: int | None = None) -> str:
    """``3 volunteers have the skill; 2 × too far`` (see ``contracts.matching.unmatched_summary``)."""
    return words.phrases(language, unmatched_summary(dict(reasons or {}), considered))

