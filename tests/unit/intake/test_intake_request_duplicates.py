"""The rule a request import flags likely duplicates by (domain.request_duplicates)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mienskip_intake.domain.addresses import DutchAddress
from mienskip_intake.domain.request_duplicates import (
    RequestFacts,
    address_key,
    likely_the_same,
    point_of,
    same_request,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
TUESDAY = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
DURK = RequestFacts(name="Durk Postma", phone="058 123 4567", address="9001AB 3", point=None,
                    start=TUESDAY, end=TUESDAY + timedelta(hours=1))


@pytest.mark.parametrize(("given", "key"), [
    ("Tsjerkepaed 3a, 9001 AB Grou", "9001AB 3 A"),
    ("3a, 9001 AB Grou", "9001AB 3 A"),
    ("Tsjerkepaed 3-2, 9001AB Grou", "9001AB 3 2"),
    ("Tsjerkepaed 3, 9001 ab Grou", "9001AB 3"),
    ({"postcode": "9001ab", "house_number": "3", "addition": "a"}, "9001AB 3 A"),
    (DutchAddress.parse("9001 AB", "3"), "9001AB 3"),
    ("9001 AB Grou", None), ("Grou", None), (None, None), ({"postcode": "nonsense", "house_number": "3"}, None),
])
def test_an_address_key_reads_the_parts_or_an_address_text(given, key):
    assert address_key(given) == key


def test_the_same_name_whatever_case_and_spaces_and_the_same_phone_or_address_at_an_overlapping_time():
    assert same_request(replace(DURK, name="  durk   POSTMA ", address=None), DURK)  # the phone, in another form
    assert same_request(replace(DURK, phone=None, start=TUESDAY + timedelta(minutes=59)), DURK)  # the address
    assert not same_request(replace(DURK, phone="0699999999", address="9001AB 5"), DURK)  # neither
    assert not same_request(replace(DURK, name="Durk Postma-Visser"), DURK)
    assert not same_request(replace(DURK, start=TUESDAY + timedelta(hours=1), end=TUESDAY + timedelta(hours=2)),
                            DURK)  # one ends as the other starts


def test_a_weekly_request_meets_any_week_at_its_weekday_and_hours():
    weekly = replace(DURK, weekly=True)
    in_three_weeks = replace(DURK, start=TUESDAY + timedelta(days=21, minutes=30),
                             end=TUESDAY + timedelta(days=21, minutes=90))
    assert same_request(in_three_weeks, weekly) and same_request(weekly, in_three_weeks)
    assert not same_request(in_three_weeks, DURK)  # a one-off three weeks earlier
    wednesday = replace(in_three_weeks, start=in_three_weeks.start + timedelta(days=1),
                        end=in_three_weeks.end + timedelta(days=1))
    assert not same_request(wednesday, weekly)


def test_places_are_the_same_only_when_typed_or_found_exactly():
    here = replace(DURK, phone=None, address=None, point=point_of(53.09411, 5.83712, "exact"))
    assert same_request(here, replace(here, point=point_of(53.094112, 5.837118, "given")))
    assert point_of(53.09276, 5.83689, "postcode4") is None
    assert not same_request(replace(here, point=None), replace(here, point=None))
    assert likely_the_same(here, [("a", here), ("b", replace(here, name="Anna"))]) == ["a"]
