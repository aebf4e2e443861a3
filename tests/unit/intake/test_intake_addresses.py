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
from mienskip_intake.domain.model import InvalidRequest
from mienskip_intake.service_layer.geocoding import (
    AddressLookup,
    GeocoderUnavailable,
    UnknownAddress,
    look_up_again,
    place,
)


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


# -- placing a record: the one rule the API, the desk and (for homes) volunteers share ---------
def test_a_typed_point_is_given_as_it_was():
    placed = place({"location": {"lat": 53.2, "lon": 5.8}, "address": None}, None)
    assert (placed.lat, placed.lon, placed.precision, placed.exact_lookup) == (53.2, 5.8, Precision.GIVEN, None)


def test_an_address_is_placed_and_its_text_filled_only_when_empty():
    lookup = AddressLookup(EmbeddedGeocoder())
    address = DutchAddress.parse("9001 AB", 3, "a")
    placed = place({"address": address}, lookup)
    assert placed.precision is Precision.POSTCODE4 and placed.address_text == "3a, 9001 AB Grou"
    assert placed.exact_lookup is None  # nothing better to wait for
    assert place({"address": address}, lookup, text="Tsjerkepaed 3a").address_text is None


def test_an_unknown_address_names_the_field_it_came_in():
    lookup = AddressLookup(EmbeddedGeocoder())
    with pytest.raises(InvalidRequest) as caught:
        place({"home_address": {"postcode": "1012 AB", "house_number": "1"}}, lookup, point="home",
              address="home_address")
    assert caught.value.field == "home_address.postcode"
    with pytest.raises(InvalidRequest) as caught:
        place({"address": {"postcode": "9001 AB", "house_number": "0"}}, lookup)
    assert caught.value.field == "address.house_number"


def test_placed_while_away_carries_what_to_look_up_and_the_later_lookup_rewrites_only_our_text():
    placed = place({"address": DutchAddress.parse("9001 AB", 3, "a")}, AddressLookup(_Away(), EmbeddedGeocoder()))
    assert placed.exact_lookup == {"postcode": "9001 AB", "house_number": "3", "addition": "A", "fill_text": True}
    located, text = look_up_again(placed.exact_lookup, AddressLookup(_Exact(), EmbeddedGeocoder()))
    assert located.precision is Precision.EXACT and text == "Tsjerkepaed 3a, 9001 AB Grou"
    _, text = look_up_again({**placed.exact_lookup, "fill_text": False}, AddressLookup(_Exact()))
    assert text is None
    with pytest.raises(GeocoderUnavailable):
        look_up_again(placed.exact_lookup, AddressLookup(_Away(), EmbeddedGeocoder()))
