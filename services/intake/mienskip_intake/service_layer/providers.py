"""Care providers (issue 13): coordinators register and change them, kamers read those of
their region that serve them. Every change writes ``provider.registered|updated`` (the
whole provider, one more ``revision``) for notify, which reaches them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event

from ..domain import referral_commands as rc
from ..domain.model import InvalidRequest, Principal, Role
from ..domain.referrals import DEFAULT_ANSWER_WITHIN_DAYS, Provider
from .common import NotFound, new_id
from .unit_of_work import UnitOfWork

CHANGEABLE = ("name", "kind", "categories", "kamer_ids", "email", "phone", "webhook_url", "language",
              "answer_within_days", "active")


def _coordinator_of(principal: Principal, region: str) -> None:
    """Only a coordinator of the provider's region changes it; another region's sees nothing."""
    if principal.role is not Role.COORDINATOR:
        raise PermissionError("only coordinators register and change providers")
    if principal.region is not None and principal.region != region:
        raise NotFound(region)


def may_see(principal: Principal, provider: Provider, kamer_region: str | None) -> bool:
    """``kamer_region``: the region of a kamer caller's kamer (a staff member's principal
    names the kamer, not always its region)."""
    if principal.role is Role.COORDINATOR:
        return principal.region is None or principal.region == provider.region
    if principal.role is Role.KAMER:
        return provider.visible_to_kamer(principal.kamer_id, kamer_region)
    return False


def _visible(uow: UnitOfWork, principal: Principal, provider_id: str) -> Provider:
    """The provider, if this person may see it; else 404 (another region's looks missing)."""
    provider = uow.providers.get(provider_id)
    kamer = uow.kamers.get(principal.kamer_id) if principal.role is Role.KAMER else None
    if provider is None or not may_see(principal, provider, kamer.region if kamer else None):
        raise NotFound(provider_id)
    return provider


def _check_kamers(uow: UnitOfWork, region: str, kamer_ids: list[str]) -> None:
    for kamer_id in kamer_ids:
        kamer = uow.kamers.get(kamer_id)
        if kamer is None or kamer.region != region:
            raise InvalidRequest("kamer_ids", f"{kamer_id} is not a kamer of region {region}")


def announce(uow: UnitOfWork, provider: Provider, event_type: str, correlation_id: str | None) -> None:
    uow.publish(new_event(event_type, {
        "provider_id": provider.id, "name": provider.name, "kind": provider.kind, "region": provider.region,
        "categories": provider.categories, "kamer_ids": provider.kamer_ids, "email": provider.email,
        "phone": provider.phone, "webhook_url": provider.webhook_url, "language": provider.language,
        "active": provider.active, "revision": provider.revision,
    }, correlation_id=correlation_id or provider.id))


def register_provider(cmd: rc.RegisterProvider, uow: UnitOfWork) -> Provider:
    data, principal = cmd.data, cmd.principal
    region = data.get("region") or principal.region
    if not region:
        raise InvalidRequest("region", "is required")
    stamp = utcnow()
    provider = Provider(
        id=new_id(), name=data["name"], kind=data["kind"], categories=list(dict.fromkeys(data["categories"])),
        region=region, email=data.get("email"), created_at=stamp, updated_at=stamp,
        kamer_ids=list(dict.fromkeys(data.get("kamer_ids") or [])), phone=data.get("phone"),
        webhook_url=data.get("webhook_url"), language=data.get("language") or "nl",
        answer_within_days=data.get("answer_within_days") or DEFAULT_ANSWER_WITHIN_DAYS,
        active=data.get("active", True))
    with uow:
        _coordinator_of(principal, region)
        _check_kamers(uow, region, provider.kamer_ids)
        uow.providers.add(provider)
        announce(uow, provider, "provider.registered", cmd.correlation_id)
        uow.commit()
    return provider


def update_provider(cmd: rc.UpdateProvider, uow: UnitOfWork) -> Provider:
    with uow:
        provider = _visible(uow, cmd.principal, cmd.provider_id)
        _coordinator_of(cmd.principal, provider.region)
        values: dict[str, Any] = {name: cmd.changes[name] for name in CHANGEABLE if name in cmd.changes}
        if values.get("kamer_ids") is not None:
            values["kamer_ids"] = list(dict.fromkeys(values["kamer_ids"]))
            _check_kamers(uow, provider.region, values["kamer_ids"])
        if values.get("categories") is not None:
            values["categories"] = list(dict.fromkeys(values["categories"]))
        for required in ("name", "kind", "categories", "language", "answer_within_days", "active"):
            if required in values and values[required] is None:
                raise InvalidRequest(required, "may not be null")
        provider = replace(provider, **values, revision=provider.revision + 1, updated_at=utcnow())
        uow.providers.save(provider)
        announce(uow, provider, "provider.updated", cmd.correlation_id)
        uow.commit()
    return provider


def show_provider(cmd: rc.ShowProvider, uow: UnitOfWork) -> Provider:
    with uow:
        return _visible(uow, cmd.principal, cmd.provider_id)


def list_providers(cmd: rc.ListProviders, uow: UnitOfWork) -> list[Provider]:
    with uow:
        found = uow.providers.visible_to(cmd.principal)
    return [p for p in found if (cmd.category is None or cmd.category in p.categories)
            and (p.active or not cmd.active_only)]
