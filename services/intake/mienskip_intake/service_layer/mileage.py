"""A kamer's settings after the match, and its mileage claims (issue 17).

Km of done visits add up per volunteer per month at the kamer's rate: open lines are
computed when asked; kamer staff approve one (km, rate and amount frozen, who and when),
then mark it paid. A visit recorded after an approval shows as a new open line for the
difference; an approved claim never changes.
"""

from __future__ import annotations

from dataclasses import replace

from mienskip_shared.clock import utcnow

from ..domain import commands
from ..domain.model import Kamer, Principal, Role
from ..domain.visits import ClaimLine, month_bounds, open_lines
from .common import Conflict, NotFound, audit, new_id, require_role
from .handlers import kamer_registered
from .unit_of_work import UnitOfWork


def _kamer(uow: UnitOfWork, principal: Principal, kamer_id: str) -> Kamer:
    kamer = uow.kamers.get(kamer_id)
    if kamer is None or not principal.may_see_kamer(kamer.id, kamer.region):
        raise NotFound(kamer_id)
    return kamer


def may_change_settings(principal: Principal) -> bool:
    """A kamer's lead, or a coordinator."""
    return principal.role is Role.COORDINATOR or (principal.role is Role.KAMER and principal.lead)


def kamer_settings(principal: Principal, kamer_id: str, uow: UnitOfWork) -> Kamer:
    require_role(principal, Role.KAMER, Role.COORDINATOR)
    with uow:
        return _kamer(uow, principal, kamer_id)


def change_settings(cmd: commands.ChangeKamerSettings, uow: UnitOfWork) -> Kamer:
    """Store the kamer's settings and announce the kamer again, so notify learns them."""
    if not may_change_settings(cmd.principal):
        raise PermissionError("only a kamer's lead or a coordinator changes its settings")
    with uow:
        _kamer(uow, cmd.principal, cmd.kamer_id)
        uow.kamers.update_settings(cmd.kamer_id, phone=cmd.phone, mileage_rate_cents=cmd.mileage_rate_cents,
                                   reminder_time=cmd.reminder_time, follow_up_days=cmd.follow_up_days)
        kamer = uow.kamers.get(cmd.kamer_id)
        uow.publish(kamer_registered(kamer))
        audit(uow, cmd.principal, "settings", "kamer", cmd.kamer_id)
        uow.commit()
    return kamer


def _lines(uow: UnitOfWork, kamer: Kamer, month: str, *, lock: bool = False) -> tuple[list[ClaimLine],
                                                                                    list[ClaimLine]]:
    start, end = month_bounds(month)
    approved = uow.visits.claims(kamer.id, month, lock=lock)
    return approved, open_lines(uow.visits.done_km(kamer.id, start, end), approved, month, kamer.mileage_rate_cents)


def month_claims(principal: Principal, kamer_id: str, month: str, uow: UnitOfWork) -> tuple[Kamer, list[ClaimLine]]:
    """The kamer's claims list of ``month``: approved (and paid) lines, then open ones."""
    require_role(principal, Role.KAMER, Role.COORDINATOR)
    with uow:
        kamer = _kamer(uow, principal, kamer_id)
        approved, still_open = _lines(uow, kamer, month)
    return kamer, [*approved, *still_open]


def approve(cmd: commands.ApproveMileage, uow: UnitOfWork) -> ClaimLine:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)
    with uow:
        kamer = _kamer(uow, cmd.principal, cmd.kamer_id)
        _, still_open = _lines(uow, kamer, cmd.month, lock=True)
        line = next((each for each in still_open if each.volunteer_id == cmd.volunteer_id), None)
        if line is None:
            raise Conflict("mileage_nothing_open", "nothing open to approve for this volunteer and month")
        if cmd.expected_km is not None and abs(line.km - cmd.expected_km) > 0.0005:
            raise Conflict("mileage_changed", "a visit was recorded meanwhile: look again")
        claim = replace(line, claim_id=new_id(), approved_by=cmd.principal.actor, approved_at=utcnow(),
                        difference=False)
        uow.visits.add_claim(claim.claim_id, kamer.id, claim)
        audit(uow, cmd.principal, "approve_mileage", "volunteer", cmd.volunteer_id)
        uow.commit()
    return claim


def mark_paid(cmd: commands.MarkMileagePaid, uow: UnitOfWork) -> None:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)
    with uow:
        found = uow.visits.claim(cmd.claim_id)
        if found is None:
            raise NotFound(cmd.claim_id)
        _kamer(uow, cmd.principal, found[0])
        if not uow.visits.mark_paid(cmd.claim_id, cmd.principal.actor, utcnow()):
            raise Conflict("mileage_paid", "this claim was marked paid already")
        audit(uow, cmd.principal, "mileage_paid", "volunteer", found[1].volunteer_id)
        uow.commit()
