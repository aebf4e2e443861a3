"""Dutch addresses as Dutch forms ask them (postcode + house number + addition), and
where a geocoder places one. Stdlib only.

A location says how exact it is: ``exact`` (the address itself, from an address
service), ``postcode4`` (the centre of the 4-digit postcode area: approximate, about a
kilometre in town and several in the countryside) or ``given`` (a latitude/longitude a
kamer typed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Precision(StrEnum):
    EXACT = "exact"
    POSTCODE4 = "postcode4"
    GIVEN = "given"


# Four digits not starting with 0, two letters; SA, SD and SS are never issued.
_POSTCODE = re.compile(r"^([1-9][0-9]{3})\s*([A-Z]{2})$")
_NOT_ISSUED = frozenset({"SA", "SD", "SS"})
_HOUSE_NUMBER = re.compile(r"^[1-9][0-9]{0,4}$")
_ADDITION = re.compile(r"^[A-Z0-9]{1,4}$")
_ADDITION_SEPARATORS = re.compile(r"[\s\-/]+")


class AddressError(ValueError):
    """An address part that cannot be Dutch; ``part`` is ``postcode``, ``house_number`` or ``addition``."""

    def __init__(self, part: str, problem: str):
        super().__init__(f"{part}: {problem}")
        self.part, self.problem = part, problem


def normalise_postcode(text: str) -> str:
    """``"9001ab"``, ``" 9001 AB "`` -> ``"9001 AB"``; :class:`AddressError` if it is no Dutch postcode."""
    match = _POSTCODE.match((text or "").strip().upper())
    if match is None:
        raise AddressError("postcode", "must be a Dutch postcode: 4 digits (not starting with 0) and 2 letters")
    digits, letters = match.groups()
    if letters in _NOT_ISSUED:
        raise AddressError("postcode", f"{letters} is never used in a Dutch postcode")
    return f"{digits} {letters}"


@dataclass(frozen=True)
class DutchAddress:
    """A normalised Dutch address: ``postcode`` as ``"9001 AB"``, ``house_number`` digits
    only, ``addition`` (letter or suffix: ``"a"``, ``"2"``, ``"bis"``) upper case or None."""

    postcode: str
    house_number: str
    addition: str | None = None

    @classmethod
    def parse(cls, postcode: str, house_number: str | int, addition: str | None = None) -> DutchAddress:
        number = str(house_number).strip()
        if not _HOUSE_NUMBER.match(number):
            raise AddressError("house_number", "must be a house number: 1 to 99999, digits only")
        extra = _ADDITION_SEPARATORS.sub("", addition or "").upper() or None
        if extra is not None and not _ADDITION.match(extra):
            raise AddressError("addition", "must be a letter or up to 4 letters and digits, e.g. a or 2")
        return cls(normalise_postcode(postcode), number, extra)

    @property
    def postcode4(self) -> str:
        return self.postcode[:4]

    def as_query(self) -> str:
        """How an address service is asked for it: ``"9001AB 3 a"``."""
        return " ".join(part for part in (self.postcode.replace(" ", ""), self.house_number, self.addition) if part)

    def as_dict(self) -> dict[str, str | None]:
        return {"postcode": self.postcode, "house_number": self.house_number, "addition": self.addition}


@dataclass(frozen=True)
class Located:
    """Where a geocoder puts an address. ``street`` only when exact; ``place`` when known.
    ``retry_exact``: an approximate answer given because the exact service was away; a
    later lookup should try again."""

    lat: float
    lon: float
    precision: Precision
    postcode: str
    street: str | None = None
    place: str | None = None
    retry_exact: bool = False

    def as_text(self, address: DutchAddress) -> str | None:
        """The address as a Dutch letter writes it ("Tsjerkepaed 3a, 9001 AB Grou"), as far
        as it is known ("3a, 9001 AB Grou" without a street); None if no place is known."""
        if self.street and self.place:
            return f"{self.street} {_house(address)}, {address.postcode} {self.place}"
        if self.place:  # no street: the number still finds the door once there
            return f"{_house(address)}, {address.postcode} {self.place}"
        return None


def _house(address: DutchAddress) -> str:
    """"3a", "3-2": a letter follows the number, anything else after a hyphen."""
    if not address.addition:
        return address.house_number
    is_letter = len(address.addition) == 1 and address.addition.isalpha()
    return address.house_number + (address.addition.lower() if is_letter else f"-{address.addition}")
