"""Words at the edge: notify's domain plans facts, the composer words them per reader."""

from datetime import UTC, date, datetime, timedelta

import pytest

from mienskip_notify.adapters.wording import worded
from mienskip_notify.domain.contacts import KamerContact, Known, ResidentContact, VolunteerContact
from mienskip_notify.domain.facts import Category, DeclineReason, Distance, TaskTime, local_date
from mienskip_notify.domain.planner import notifications_for

OCCURRED = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
START = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Leeuwarden, still Tuesday
KAMER = KamerContact("grou", "Dorpskamer Grou", "grou@example.org", None, "en")
KNOWN = Known(kamer=KAMER,
              volunteers={"vo-7": VolunteerContact("vo-7", "grou", "Hiltsje", "h@example.org", None, "fy")},
              resident=ResidentContact("rq-1", "grou", "Durk", None, "nl", "Tsjerkepaed 3", "Grou"))
DECLINED = {"assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
            "region": "leeuwarden", "category": "pets", "window": {"start": START, "end": START + timedelta(hours=1)},
            "rematch": True, "reason_code": "volunteer_erased"}


def test_the_domain_plans_facts_not_words():
    (n,) = notifications_for("assignment.declined", "ev-1", OCCURRED, DECLINED, KAMER, email_enabled=True,
                             public_url="https://m.example", known=KNOWN)
    assert n.context["category"] == Category("pets")
    assert n.context["when"] == TaskTime(START, START + timedelta(hours=1))
    assert n.context["day"] == date(2026, 12, 1)  # the day in Leeuwarden, not in UTC
    assert n.context["reason"] == DeclineReason("volunteer_erased")


@pytest.mark.parametrize(("language", "expected"), [
    ("nl", {"category": "huisdieren", "day": "dinsdag 1 december 2026", "distance": "1,5 km",
            "when": "dinsdag 1 december 2026, 23:30 – woensdag 2 december 2026, 00:30"}),
    ("fy", {"category": "húsdieren", "day": "tiisdei 1 desimber 2026", "distance": "1,5 km",
            "when": "tiisdei 1 desimber 2026 23:30 – woansdei 2 desimber 2026 00:30"}),
    ("en", {"category": "pet care", "day": "Tuesday, 1 December 2026", "distance": "1.5 km",
            "when": "Tuesday, 1 December 2026, 23:30 – Wednesday, 2 December 2026, 00:30"}),
])
def test_the_composer_words_each_fact_in_the_readers_language(language, expected):
    facts = {"category": Category("pets"), "day": local_date(START), "distance": Distance(1.5),
             "when": TaskTime(START, START + timedelta(hours=1))}
    assert worded(facts, language) == expected


def test_words_pass_through_and_an_unknown_category_is_help():
    context = {"kamer_name": "Dorpskamer Grou", "urgent": True, "count": 3, "missing": None,
               "category": Category("juggling")}
    assert worded(context, "fy") == {**context, "category": "help"}


def test_a_naive_time_is_refused_in_the_domain():
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 12, 1, 10, 0))
