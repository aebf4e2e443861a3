"""The "how did it go?" form, shared by the volunteer's link page and the desk's request
page: read it, record the visit, and on a problem show the form again with the error at
its field (``g.visit_form``, which ``review/_visit.html`` reads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, request

from ...domain import commands
from ...domain.model import InvalidRequest, Principal
from ...domain.visits import MAX_TEXT
from ...service_layer import visits
from ...service_layer.common import Conflict
from .common import Pages, now

FIELDS = ("done", "hours", "km", "note", "reason")


def _number(text: str) -> float:
    """``1,5`` or ``1.5`` (Dutch writes a comma); ValueError if it is no number."""
    value = float(text.replace(",", ".").strip())
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(text)
    return value


def read_form() -> tuple[dict[str, str], dict[str, str], dict[str, Any]]:
    """(what was typed, errors as catalogue keys per field, the command's fields)."""
    typed = {name: request.form.get(name, "").strip()[:MAX_TEXT] for name in FIELDS}
    errors: dict[str, str] = {}
    done = {"yes": True, "no": False}.get(typed["done"])
    if done is None:
        errors["done"] = "visit.error.done"
    numbers: dict[str, float | None] = {}
    for name in ("hours", "km"):
        numbers[name] = None
        if typed[name] and done is not False:  # a visit not done has no hours or km: left out
            try:
                numbers[name] = _number(typed[name])
            except ValueError:
                errors[name] = "visit.error.number"
    fields = {"done": bool(done), **numbers, "note": typed["note"] or None,
              "reason": typed["reason"] or None if done is False else None}
    return typed, errors, fields


def record_from_form(pages: Pages, principal: Principal, assignment_id: str, *, again: Callable[[], Any],
                     done: Callable[[bool], Any]) -> Any:
    """Record the visit the form describes; ``done(was_done)`` answers after it (a redirect),
    ``again()`` renders the page once more with ``g.visit_form`` (422 then)."""
    typed, errors, fields = read_form()
    if not errors:
        try:
            visits.complete(commands.CompleteAssignment(principal, assignment_id, at=now(), **fields), pages.uow())
        except InvalidRequest as exc:
            errors[exc.field] = f"visit.error.{exc.field}"
        except Conflict as exc:
            errors["form"] = pages.words.conflict(exc.code, exc.params)
        else:
            return done(fields["done"])
    g.visit_form = {"values": typed, "errors": errors}
    return again(), 422
