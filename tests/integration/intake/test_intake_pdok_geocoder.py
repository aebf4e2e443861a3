"""The PDOK adapter against a local HTTP server answering in PDOK Locatieserver's
documented shape (``response.docs[0]`` with ``centroide_ll`` = ``POINT(lon lat)``):
never the internet. Its errors (5xx, timeout, not JSON, no docs) and its cache."""

from __future__ import annotations

import pytest
from pdok_support import serve_fake_pdok

from mienskip_intake.adapters.geocoders import PdokGeocoder
from mienskip_intake.domain.addresses import DutchAddress, Precision
from mienskip_intake.service_layer.geocoding import GeocoderUnavailable, UnknownAddress


@pytest.fixture
def pdok():
    fake, stop = serve_fake_pdok()
    yield fake
    stop()


ADDRESS = DutchAddress.parse("9001 AB", "3", "a")


def test_a_known_address_is_exact_with_street_and_place(pdok):
    located = PdokGeocoder(pdok.url).locate(ADDRESS)
    assert (located.lat, located.lon) == (53.09411, 5.83712)  # POINT is lon then lat
    assert located.precision is Precision.EXACT
    assert (located.street, located.place, located.postcode) == ("Tsjerkepaed", "Grou", "9001 AB")
    assert pdok.calls == [{"q": ["9001AB 3 A"], "fq": ["type:adres"], "rows": ["1"]}]


def test_answers_are_cached(pdok):
    geocoder = PdokGeocoder(pdok.url)
    geocoder.locate(ADDRESS)
    pdok.mode = "error"
    assert geocoder.locate(ADDRESS).precision is Precision.EXACT
    assert len(pdok.calls) == 1


def test_no_docs_is_an_unknown_address_and_that_is_cached_too(pdok):
    pdok.mode = "empty"
    geocoder = PdokGeocoder(pdok.url)
    with pytest.raises(UnknownAddress):
        geocoder.locate(ADDRESS)
    with pytest.raises(UnknownAddress):
        geocoder.locate(ADDRESS)
    assert len(pdok.calls) == 1


def test_a_neighbouring_address_is_not_this_one(pdok):
    with pytest.raises(UnknownAddress):
        PdokGeocoder(pdok.url).locate(DutchAddress.parse("9001 AB", "5"))


@pytest.mark.parametrize("mode", ["error", "garbage", "shape"])
def test_a_server_error_or_a_malformed_answer_is_unavailable_and_not_cached(pdok, mode):
    pdok.mode = mode
    geocoder = PdokGeocoder(pdok.url)
    with pytest.raises(GeocoderUnavailable):
        geocoder.locate(ADDRESS)
    pdok.mode = "ok"
    assert geocoder.locate(ADDRESS).precision is Precision.EXACT


def test_a_slow_server_is_unavailable_after_the_timeout(pdok):
    pdok.mode = "slow"
    with pytest.raises(GeocoderUnavailable):
        PdokGeocoder(pdok.url, timeout_s=0.2).locate(ADDRESS)


def test_a_server_that_is_not_there_is_unavailable():
    with pytest.raises(GeocoderUnavailable):
        PdokGeocoder("http://127.0.0.1:9", timeout_s=0.5).locate(ADDRESS)
