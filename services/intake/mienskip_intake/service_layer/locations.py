"""The later exact lookup: requests and volunteers' homes placed on their postcode area's
centre while the outside address service was away get their exact location once it
answers again.

Matching hears of it (``request.relocated``; for a volunteer ``volunteer.updated`` with
the new home and one more revision, both rounded as every location it gets) and uses it
from then on; a proposal it made already stands (a person reviews it anyway, and the
distance it showed is at most the postcode area's size off). Notify hears the address
text, if intake wrote it, through a newer ``contact.resident``.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event

from ..domain import commands
from ..domain.model import OPEN_STATUSES, Note, Status, coarse
from . import volunteers
from .common import SYSTEM, record_history
from .geocoding import AddressLookup, GeocoderUnavailable, look_up_again
from .handlers import resident_contact
from .unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)


def look_up_exact_locations(cmd: commands.LookUpExactLocations, uow_factory, addresses: AddressLookup) -> bool:
    """One round: each marked request, then each marked volunteer, looked up (outside any
    transaction), then updated in its own. Stops at the first sign the service is still
    away. True if more may wait."""
    with uow_factory() as uow:
        marked = uow.requests.awaiting_exact_lookup(cmd.batch)
        homes = uow.volunteers.awaiting_exact_lookup(cmd.batch)
    for record, looked_up, settle in [*((r, r.exact_lookup, _settle) for r in marked),
                                      *((v, v.home_exact_lookup, _settle_home) for v in homes)]:
        try:
            answer = look_up_again(looked_up, addresses)
        except GeocoderUnavailable:
            log.info("intake.exact_lookup_postponed", waiting=len(marked) + len(homes))
            return False
        settle(uow_factory(), record.id, looked_up, answer)
    return len(marked) == cmd.batch or len(homes) == cmd.batch


def _settle_home(uow: UnitOfWork, volunteer_id: str, looked_up: dict, answer) -> None:
    """A volunteer's exact home: saved with one more revision and announced
    (``volunteer.updated``, rounded) so matching measures from it; audited as intake's own."""
    with uow:
        before = uow.volunteers.get(volunteer_id, lock=True)
        if before is None or before.erased_at is not None or before.home_exact_lookup != looked_up:
            return  # erased, or given another home meanwhile: nothing of ours to settle
        if answer is None:  # no such address after all: the area's centre stays, nothing changes for matching
            uow.volunteers.save(replace(before, home_exact_lookup=None))
            log.info("intake.exact_lookup_dropped", volunteer_id=before.id, unknown=True)
        else:
            located, _ = answer
            after = replace(before, home_lat=located.lat, home_lon=located.lon,
                            home_precision=located.precision.value, home_exact_lookup=None)
            volunteers.save_and_announce(uow, SYSTEM, before, after, utcnow(), "update", None)
            log.info("intake.located_exactly", volunteer_id=before.id)
        uow.commit()


def _settle(uow: UnitOfWork, request_id: str, looked_up: dict, answer) -> None:
    with uow:
        request = uow.requests.get(request_id, lock=True)
        if request is None or request.exact_lookup != looked_up:
            return  # erased or changed meanwhile: nothing of ours to settle
        stamp = utcnow()
        if answer is None or Status(request.status) not in OPEN_STATUSES:
            # No such address after all, or the request is closed: the area's centre stays.
            uow.requests.set_location(request.id, lat=request.lat, lon=request.lon,
                                      precision=request.location_precision, at=stamp)
            log.info("intake.exact_lookup_dropped", request_id=request.id, unknown=answer is None)
            uow.commit()
            return
        located, text = answer
        uow.requests.set_location(request.id, lat=located.lat, lon=located.lon, precision=located.precision.value,
                                  at=stamp, resident_address=text)
        record_history(uow, request.id, None, "intake", code=Note.LOCATED_EXACTLY)
        uow.publish(new_event("request.relocated", {
            "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
            "location": coarse(located.lat, located.lon),
        }, correlation_id=request.id, kamer_id=request.kamer_id))
        if text is not None:
            uow.publish(resident_contact(uow.requests.get(request.id), request.id))
        log.info("intake.located_exactly", request_id=request.id)
        uow.commit()
