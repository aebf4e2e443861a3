"""The geocoder port: what intake needs from an address service, and the one rule about
an outside one being away.

Adapters (``adapters/geocoders.py``) implement :class:`Geocoder`; ``bootstrap`` picks
them by ``MIENSKIP_GEOCODER`` (``embedded``: postcode-area centres, no network; ``pdok``:
the Dutch government's address service, with the embedded one behind it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from ..domain.addresses import DutchAddress, Located


class UnknownAddress(LookupError):
    """The address service knows no such postcode (or house number at it)."""


class GeocoderUnavailable(RuntimeError):
    """The address service did not answer in time, or answered nonsense."""


class Geocoder(Protocol):
    def locate(self, address: DutchAddress) -> Located:
        """Where ``address`` is; :class:`UnknownAddress` or :class:`GeocoderUnavailable`."""
        ...


@dataclass(frozen=True)
class AddressLookup:
    """Places addresses: ``geocoder`` first; if it is away, ``fallback`` (approximate),
    marked ``retry_exact`` so a worker looks again later. No request waits on, or is lost
    to, an outside service."""

    geocoder: Geocoder
    fallback: Geocoder | None = None

    def locate(self, address: DutchAddress) -> Located:
        """Raises :class:`UnknownAddress`, or :class:`GeocoderUnavailable` when neither can place it."""
        try:
            return self.geocoder.locate(address)
        except GeocoderUnavailable:
            if self.fallback is None:
                raise
            try:
                approximate = self.fallback.locate(address)
            except UnknownAddress as exc:  # the outside service might know it: we cannot say no
                raise GeocoderUnavailable(f"away, and {address.postcode4} is no area we know") from exc
            return replace(approximate, retry_exact=True)

    def locate_exactly(self, address: DutchAddress) -> Located:
        """The later lookup: only the main geocoder (:class:`GeocoderUnavailable` if it is still away)."""
        return self.geocoder.locate(address)

    @property
    def may_retry(self) -> bool:
        return self.fallback is not None
