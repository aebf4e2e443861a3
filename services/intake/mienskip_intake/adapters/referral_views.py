"""What the pages show about care providers and referrals (issue 13): per provider how
many it took and how fast it answered, referrals waiting, overdue or declined, and the
providers a request may be referred to. Read-only queries, scoped like every list."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from ..domain.model import HelpRequest, Principal, Status, first_name_or_dash
from ..domain.places import Place, nearest_place
from ..domain.referrals import Helper, Provider, ReferralStatus, may_refer_again
from . import tables as t
from .read_models import LIST_LIMIT, OPEN, scoped
from .referral_repository import ProviderRepository, referral_from_row


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def provider_stats(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    """Each provider the person may see, with its referrals: taken (sent to it), accepted,
    declined, and the median hours to answer (None before any answer)."""
    f = t.referrals
    with engine.begin() as tx:
        found = ProviderRepository(tx).visible_to(principal)
        ids = [p.id for p in found]
        rows = tx.execute(select(f).where(f.c.provider_id.in_(ids))).all() if ids else []
    per: dict[str, list] = defaultdict(list)
    for row in rows:
        per[row.provider_id].append(referral_from_row(row._mapping))
    shown = []
    for provider in found:
        mine = per[provider.id]
        answered = [r.hours_to_answer() for r in mine if r.answered_at is not None]
        shown.append({"provider": provider, "taken": len(mine),
                      "accepted": sum(1 for r in mine if r.was_accepted),
                      "declined": sum(1 for r in mine if r.reason is not None or r.status == ReferralStatus.DECLINED),
                      "median_hours": round(statistics.median(answered), 1) if answered else None})
    return shown


def referrals_in(engine: Engine, principal: Principal, places: Sequence[Place], statuses: Sequence[ReferralStatus],
                 now: datetime, *, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Referrals of open requests in these statuses, oldest first, with their age in hours."""
    f, r, p, k = t.referrals, t.requests, t.providers, t.kamers
    query = (select(f, r.c.category, r.c.resident_name, r.c.lat, r.c.lon, r.c.status.label("request_status"),
                    r.c.window_start, r.c.window_end, p.c.name.label("provider_name"), k.c.name.label("kamer_name"))
             .join(r, r.c.id == f.c.request_id).join(p, p.c.id == f.c.provider_id).join(k, k.c.id == f.c.kamer_id)
             .where(f.c.status.in_([s.value for s in statuses]), r.c.status.in_(OPEN)))
    query = scoped(query, principal, f.c.kamer_id, f.c.region)
    with engine.begin() as tx:
        rows = tx.execute(query.order_by(f.c.sent_at).limit(limit)).all()
    return [{"referral": referral_from_row(row._mapping), "category": row.category,
             "first_name": first_name_or_dash(row.resident_name), "place": nearest_place(places, row.lat, row.lon),
             "request_status": row.request_status, "window_start": row.window_start, "window_end": row.window_end,
             "provider_name": row.provider_name, "kamer_name": row.kamer_name,
             "age_hours": round(_hours(row.sent_at, now), 1)} for row in rows]


def not_yet_referred(engine: Engine, principal: Principal, places: Sequence[Place], *,
                     limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Open requests for a professional (or both) that have no referral yet, oldest first."""
    r, f, k = t.requests, t.referrals, t.kamers
    query = (select(r.c.id, r.c.category, r.c.resident_name, r.c.lat, r.c.lon, r.c.created_at,
                    k.c.name.label("kamer_name"))
             .join(k, k.c.id == r.c.kamer_id)
             .where(r.c.helper != Helper.VOLUNTEER.value, r.c.status.in_(OPEN),
                    ~select(f.c.id).where(f.c.request_id == r.c.id).exists()))
    query = scoped(query, principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        rows = tx.execute(query.order_by(r.c.created_at).limit(limit)).all()
    return [{"id": row.id, "category": row.category, "first_name": first_name_or_dash(row.resident_name),
             "place": nearest_place(places, row.lat, row.lon), "kamer_name": row.kamer_name,
             "created_at": row.created_at} for row in rows]


def attention(engine: Engine, principal: Principal, places: Sequence[Place], now: datetime) -> dict[str, Any]:
    """For the "needs attention" page: overdue referrals (with their age), declined ones
    (the kamer chooses another provider), and requests for a professional not referred yet."""
    return {"overdue": referrals_in(engine, principal, places, [ReferralStatus.OVERDUE], now),
            "declined": referrals_in(engine, principal, places, [ReferralStatus.DECLINED], now),
            "unreferred": not_yet_referred(engine, principal, places)}


def chooser(engine: Engine, principal: Principal, request: HelpRequest) -> list[dict[str, Any]]:
    """Active providers serving the request's kamer, those that take its category first:
    the "refer" form's choice."""
    with engine.begin() as tx:
        found = ProviderRepository(tx).visible_to(principal)
    serving = [p for p in found if p.serves(request.region, request.kamer_id)]
    return [{"id": p.id, "name": p.name, "kind": p.kind, "takes_category": request.category in p.categories}
            for p in sorted(serving, key=lambda p: (request.category not in p.categories, p.name))]


def referral_part(engine: Engine, request: HelpRequest) -> dict[str, Any] | None:
    """The request's current referral with its provider, for the request's page."""
    referral = request.referral
    if referral is None:
        return None
    with engine.begin() as tx:
        provider: Provider | None = ProviderRepository(tx).get(referral.provider_id)
    return {"referral": referral, "provider_name": provider.name if provider else "—",
            "provider_phone": provider.phone if provider else None}


def request_page(engine: Engine, principal: Principal, request: HelpRequest) -> dict[str, Any]:
    """The request page's professional part: the current referral, and whether (and to
    whom) it may be referred now."""
    part = referral_part(engine, request)
    open_ = request.status in OPEN and request.status != Status.COMPLETED.value
    referable = request.helper != Helper.VOLUNTEER or request.status == Status.UNMATCHED.value
    options = chooser(engine, principal, request) if open_ and referable and may_refer_again(request.referral) else []
    return {"part": part, "chooser": options, "may_refer": bool(options)}


def active_providers(engine: Engine, principal: Principal) -> list[Provider]:
    """The active providers the person may refer to (the desk's new-request form)."""
    with engine.begin() as tx:
        return [p for p in ProviderRepository(tx).visible_to(principal) if p.active]
