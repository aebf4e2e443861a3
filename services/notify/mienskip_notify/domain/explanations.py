"""Matching's reasons, as the kamer reads them in a message: why a volunteer was
proposed (the proposal's ``explanation``), and why nobody was (an unmatched request's
``summary`` and ``reasons``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def proposal_explanation(data: Mapping[str, Any]) -> dict[str, Any]:
    """The explaining part of a proposal message's context."""
    return {"why": why_lines(data.get("explanation") or {})}


def unmatched_explanation(data: Mapping[str, Any]) -> dict[str, Any]:
    """The explaining part of an unmatched request message's context."""
    reasons = data.get("reasons") or {}
    return {
        "summary": data["summary"],
        # most exclusions first, so the main reason leads
        "reasons": sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
    }


def why_lines(explanation: Mapping[str, Any]) -> list[str]:
    """The explanation's ``why`` as lines of text, whatever shape matching sent."""
    why = explanation.get("why")
    if why is None:
        return []
    if isinstance(why, str):
        return [why]
    if isinstance(why, Mapping):
        return [f"{key}: {value}" for key, value in why.items()]
    if isinstance(why, (list, tuple)):
        return [str(line) for line in why]
    return [str(why)]
