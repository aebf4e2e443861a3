"""What people, providers and the workers ask about care providers and referrals (issue 13):
one small dataclass per use case, as in :mod:`.commands`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .model import Principal


@dataclass(frozen=True)
class RegisterProvider:
    principal: Principal
    data: dict[str, Any]  # ProviderSchema's loaded form
    correlation_id: str | None = None


@dataclass(frozen=True)
class UpdateProvider:
    principal: Principal
    provider_id: str
    changes: dict[str, Any]
    correlation_id: str | None = None


@dataclass(frozen=True)
class ShowProvider:
    principal: Principal
    provider_id: str


@dataclass(frozen=True)
class ListProviders:
    principal: Principal
    category: str | None = None
    active_only: bool = False


@dataclass(frozen=True)
class Refer:
    principal: Principal
    request_id: str
    provider_id: str
    note: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class AcceptReferral:
    principal: Principal
    referral_id: str
    who: str | None = None
    when: datetime | None = None
    note: str | None = None
    correlation_id: str | None = None


@dataclass(frozen=True)
class DeclineReferral:
    principal: Principal
    referral_id: str
    reason: str
    correlation_id: str | None = None


@dataclass(frozen=True)
class ShowReferral:
    principal: Principal
    referral_id: str


@dataclass(frozen=True)
class MarkOverdueReferrals:
    now: datetime | None = None  # the worker's clock; now if not given
    batch: int = 100
