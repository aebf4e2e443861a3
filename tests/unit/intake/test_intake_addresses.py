"""Dutch addresses: parsing postcodes and house numbers, the embedded geocoder, and the
fallback rule when an outside geocoder is away."""

import pytest

from mienskip_intake.adapters.geocoders import EmbeddedGeocoder, build_lookup
from mienskip_intake.domain.addresses import (
    AddressError,
    DutchAddress,
    Located,
    Precision,
    normalise_postcode,
)
from mienskip_intake.service_layer.geocoding import AddressLookup, GeocoderUnavailable, UnknownAddress


@pytest.mark.parametrize("text", ["9001AB", "9001 ab", " 9001  AB ", "9001ab"])
def test_postcodes_are_normalised(text):
    assert normalise_postcode(text) == "9001 AB"


@pytest.mark.parametrize("text", ["0901 AB", "901 AB", "90011 AB", "9001 A", "9001 A1", "ABCD EF", "", "9001-AB"])
def test_what_is_no_dutch_postcode_is_refused(text):
    with pytest.raises(AddressError) as caught:
        normalise_postcode(text)
    assert caught.value.part == "postcode"


@pytest.mark.parametrize("letters", ["SA", "SD", "SS", "sa"])
def test_letter_pairs_never_issued_are_refused(letters):
    with pytest.raises(AddressError, match=letters.upper()):
        normalise_postcode(f"8911 {letters}")


def test_an_address_normalises_its_parts():
    address = DutchAddress.parse("8911ke", " 12 ", " a ")
    assert address == DutchAddress("8911 KE", "12", "A")
    assert address.postcode4 == "8911"
    assert address.as_query() == "8911KE 12 A"
    assert DutchAddress.parse("8911 KE", 12, "").addition is None
    assert DutchAddress.parse("8911 KE", 12, "-2").addition == "2"


@pytest.mark.parametrize(("number", "addition", "part"), [
    ("0", None, "house_number"), ("12a", None, "house_number"), ("", None, "house_number"),
    ("123456", None, "house_number"), ("12", "toolong", "addition"), ("12", "a.b", "addition"),
])
def test_bad_house_numbers_and_additions_name_their_part(number, addition, part):
    with pytest.raises(AddressError) as caught:
        DutchAddress.parse("8911 KE", number, addition)
    assert caught.value.part == part


def test_an_address_is_written_as_dutch_letters_write_it():
    exact = Located(53.2, 5.8, Precision.EXACT, "8911 KE", street="Nieuwestad", place="Leeuwarden")
    assert exact.as_text(DutchAddress.parse("8911KE", 12, "b")) == "Nieuwestad 12b, 8911 KE Leeuwarden"
    assert exact.as_text(DutchAddress.parse("8911KE", 12, "2")) == "Nieuwestad 12-2, 8911 KE Leeuwarden"
    approximate = Located(53.2, 5.8, Precision.POSTCODE4, "8911 KE", place="Leeuwarden")
    assert approximate.as_text(DutchAddress.parse("8911KE", 12)) == "12, 8911 KE Leeuwarden"


def test_the_embedded_geocoder_gives_the_postcode_areas_centre_and_says_it_is_approximate():
    located = EmbeddedGeocoder().locate(DutchAddress.parse("9001 AB", 3))
    assert (located.lat, located.lon) == (53.09276, 5.83689)
    assert located.precision is Precision.POSTCODE4
    assert located.place == "Grou" and located.street is None and not located.retry_exact


def test_the_embedded_geocoder_knows_only_frisian_postcode_areas():
    with pytest.raises(UnknownAddress):
        EmbeddedGeocoder().locate(DutchAddress.parse("1012 AB", 1))  # Amsterdam


class _Away:
    def locate(self, address):
        raise GeocoderUnavailable("timeout")


class _Exact:
    def locate(self, address):
        return Located(53.1, 5.8, Precision.EXACT, address.postcode, street="Tsjerkepaed", place="Grou")


def test_an_outside_geocoder_away_falls_back_to_the_centre_marked_for_a_later_exact_lookup():
    lookup = AddressLookup(_Away(), fallback=EmbeddedGeocoder())
    located = lookup.locate(DutchAddress.parse("9001 AB", 3))
    assert located.precision is Precision.POSTCODE4 and located.retry_exact
    with pytest.raises(GeocoderUnavailable):
        lookup.locate_exactly(DutchAddress.parse("9001 AB", 3))


def test_away_and_an_area_the_fallback_does_not_know_is_unavailable_not_unknown():
    lookup = AddressLookup(_Away(), fallback=EmbeddedGeocoder())
    with pytest.raises(GeocoderUnavailable):
        lookup.locate(DutchAddress.parse("1012 AB", 1))


def test_an_answering_geocoder_is_used_as_it_answers():
    located = AddressLookup(_Exact(), fallback=EmbeddedGeocoder()).locate(DutchAddress.parse("9001 AB", 3))
    assert located.precision is Precision.EXACT and not located.retry_exact


def test_the_geocoder_is_chosen_by_setting():
    assert isinstance(build_lookup("embedded", "").geocoder, EmbeddedGeocoder)
    assert build_lookup("pdok", "http://127.0.0.1:9").may_retry
    with pytest.raises(ValueError):
        build_lookup("pdok", "")
    with pytest.raises(ValueError):
        build_lookup("google", "x")
