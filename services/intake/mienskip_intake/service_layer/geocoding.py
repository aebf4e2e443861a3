"""The geocoder port: what intake needs from an address service, and the one rule about
an outside one being away.

Adapters (``adapters/geocoders.py``) implement :class:`Geocoder`; ``bootstrap`` picks
them by ``MIENSKIP_GEOCODER`` (``embedded``: postcode-area centres, no network; ``pdok``:
the Dutch government's address service, with the embedded one behind it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from ..domain.addresses import AddressError, DutchAddress, Located, Precision
from ..domain.model import InvalidRequest


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


@dataclass(frozen=True)
class Placement:
    """Where a record (a request, a volunteer's home) is, and what is still to do about it.

    ``exact_lookup``: the address to look up again once the outside geocoder is back
    (None: nothing to do); ``fill_text`` in it says the address text was ours to write.
    ``address_text``: the address in words, for a record whose own text was left empty.
    """

    lat: float
    lon: float
    precision: Precision
    exact_lookup: dict[str, Any] | None = None
    address_text: str | None = None


def as_address(value: DutchAddress | Mapping[str, Any]) -> DutchAddress:
    """The schemas load a :class:`DutchAddress`; the command line may hand a plain dict."""
    if isinstance(value, DutchAddress):
        return value
    return DutchAddress.parse(value["postcode"], value["house_number"], value.get("addition"))


def place(data: Mapping[str, Any], addresses: AddressLookup | None, *, point: str = "location",
          address: str = "address", text: str | None = None) -> Placement:
    """A typed ``data[point]`` (``{lat, lon}``: precision ``given``, exactly as before), or
    ``data[address]`` placed by the geocoder. ``text`` is the record's own address text,
    if any: when empty it is filled from the answer.

    An unknown address is an :class:`InvalidRequest` on ``<address>.postcode``; an
    outside geocoder that is away gives the postcode area's centre, marked for a later
    exact lookup; :class:`GeocoderUnavailable` only if even that is not known.
    """
    if data.get(address) is None:
        return Placement(data[point]["lat"], data[point]["lon"], Precision.GIVEN)
    if addresses is None:
        raise GeocoderUnavailable("no geocoder configured")
    try:
        wanted = as_address(data[address])
    except AddressError as exc:
        raise InvalidRequest(f"{address}.{exc.part}", exc.problem) from exc
    try:
        located = addresses.locate(wanted)
    except UnknownAddress as exc:
        raise InvalidRequest(f"{address}.postcode", "is not a known postcode (or no such house number at it)") \
            from exc
    filled = None if text else located.as_text(wanted)
    pending = {**wanted.as_dict(), "fill_text": filled is not None} if located.retry_exact else None
    return Placement(located.lat, located.lon, located.precision, pending, filled)


def look_up_again(exact_lookup: Mapping[str, Any], addresses: AddressLookup) -> tuple[Located, str | None] | None:
    """The later exact lookup of a marked record: the answer and, if the text was ours
    to write, the new text; None if the service says there is no such address (the
    approximate place stays). :class:`GeocoderUnavailable` while it is still away."""
    wanted = as_address(exact_lookup)
    try:
        located = addresses.locate_exactly(wanted)
    except UnknownAddress:
        return None
    return located, located.as_text(wanted) if exact_lookup.get("fill_text") else None
