"""Events published by matching.

Reasons travel as codes with parameters (``{"code": "further", "km": 1.3}``), never as
sentences: each consumer words them in its reader's language from its own catalogue.
"""

from marshmallow import fields, validate

from .common import Payload, skills_field
from .envelope import register
from .vocabulary import REASON_CODES, RULES


class Reason(Payload):
    code = fields.Str(required=True, validate=validate.OneOf(REASON_CODES))
    km = fields.Float(load_default=None, allow_none=True)  # "further" and "further_than_continuity"


class RunnerUp(Payload):
    """The best other volunteer and why they lost: a cause, or the hard rule that stopped them."""

    volunteer_id = fields.Str(required=True)
    distance_km = fields.Float(required=True)
    reason = fields.Nested(Reason, required=True)
    rule = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(RULES))


class Explanation(Payload):
    distance_km = fields.Float()
    skills_matched = skills_field()
    availability = fields.Str(allow_none=True)  # the weekly slot that holds the window: "tue 09:00-12:00"
    load_this_week = fields.Int()  # this volunteer's tasks that week, this one included
    max_tasks_per_week = fields.Int()
    runner_up = fields.Nested(RunnerUp, allow_none=True)
    continuity = fields.Bool()  # only for a request that follows another: the same volunteer as last time?


class Proposal(Payload):
    """Who matching proposes for which request, and why (also in intake's review request)."""

    assignment_id = fields.Str(required=True)
    request_id = fields.Str(required=True)
    volunteer_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    distance_km = fields.Float(required=True)
    explanation = fields.Nested(Explanation, required=True)


@register("assignment.proposed")
class AssignmentProposed(Proposal):
    # The how-manieth decision about this request (1, 2, ...): events travel on separate
    # queues, so consumers use it to ignore a decision that arrives after a newer one.
    decision = fields.Int(load_default=0)


@register("request.unmatched")
class RequestUnmatched(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    # rule (or "taken") -> number of volunteers it excluded, each counted once, by the first rule they break
    reasons = fields.Dict(keys=fields.Str(validate=validate.OneOf(REASON_CODES)), values=fields.Int(), required=True)
    # Volunteers considered (the whole pool), for "3 volunteers have the skill"; None from a
    # producer older than reason codes (it sent a sentence instead, which consumers ignore).
    considered = fields.Int(load_default=None, allow_none=True)
    decision = fields.Int(load_default=0)


Phrase = tuple[str, dict]  # a catalogue key and its parameters


def unmatched_summary(reasons: dict[str, int], considered: int | None) -> list[list[Phrase]]:
    """How to read a ``request.unmatched``: phrases to word from a catalogue, in groups
    to join with "; " (groups) and ", " (phrases), e.g. [[("summary.skilled", {"n": 3})],
    [("summary.count", {"n": 2, "reason": "distance"}), ...]].

    Keys: ``summary.no_region``, ``summary.no_skill``, ``summary.one_skilled``,
    ``summary.skilled`` {n}, ``summary.count`` {n, reason}: the reason is a code to word
    with ``reason.<code>``.
    """
    groups: list[list[Phrase]] = []
    if considered is not None:
        in_region = considered - reasons.get("region", 0)
        if in_region == 0:
            return [[("summary.no_region", {})]]
        skilled = in_region - reasons.get("skills", 0)
        groups.append([("summary.no_skill", {}) if skilled == 0 else ("summary.one_skilled", {}) if skilled == 1
                       else ("summary.skilled", {"n": skilled})])
    rest = [("summary.count", {"n": count, "reason": code}) for code, count in reasons.items()
            if considered is None or code not in ("region", "skills")]
    if rest:
        groups.append(rest)
    return groups


def runner_up_phrase(runner_up: dict) -> Phrase | None:
    """How to read an explanation's runner-up, as a phrase to word from a catalogue: the
    hard rule that stopped them (``reason.<rule>``), else matching's cause
    (``cause.<code>`` {km}; "?" where a cause that needs km came without it). None when
    it carries neither (an explanation from before reason codes)."""
    if runner_up.get("rule"):
        return (f"reason.{runner_up['rule']}", {})
    reason = runner_up.get("reason") or {}
    if not reason.get("code"):
        return None
    km = reason.get("km")
    return (f"cause.{reason['code']}", {"km": "?" if km is None else float(km)})
