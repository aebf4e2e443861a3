"""The demo's care providers and referrals (issue 13): four made-up Leeuwarden
organisations (contact addresses at example.org) and a few referrals in different
states, through intake's own use cases like the rest of the demo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mienskip_intake.bootstrap import Admin

PROVIDERS = [
    {"name": "Sociaal Wijkteam Leeuwarden-Oost", "kind": "wijkteam",
     "categories": ["buddy", "paperwork", "digital", "language", "other"], "email": "wijkteam-oost@example.org",
     "phone": "058 233 44 00", "answer_within_days": 2},
    {"name": "Thuiszorg De Wâlden", "kind": "thuiszorg", "categories": ["meals", "respite", "shopping"],
     "email": "planning@thuiszorg-dewalden.example.org", "phone": "058 288 12 34", "answer_within_days": 1},
    {"name": "Schuldhulp Leeuwarden", "kind": "schuldhulp", "categories": ["paperwork"],
     "email": "schuldhulp@example.org", "phone": "058 233 89 00", "answer_within_days": 3},
    {"name": "Wijk-GGZ Fryslân Noord", "kind": "ggz", "categories": ["buddy", "other"], "language": "fy",
     "email": "wyk-ggz@example.org", "phone": "058 299 70 70", "answer_within_days": 2},
]
# (helper, category, provider index, note for the provider, the provider's answer: None, "accept" or "decline")
REFERRALS = [
    ("professional", "paperwork", 2, "Post stapelt zich op; mevrouw durft de brieven niet open te maken.", "accept"),
    ("professional", "meals", 1, "Na ziekenhuisopname; warme maaltijd en hulp bij het opstaan.", None),
    ("both", "buddy", 0, "Vrijwilliger voor de wandeling; wijkteam voor de eenzaamheid.", "accept"),
    ("professional", "other", 3, "Meneer is erg somber sinds zijn vrouw overleed.", "decline"),
]


def load_referrals(admin: Admin, principal: Any, request_of: Callable[[str, str], dict],
                   region: str = "leeuwarden") -> list[str]:
    """Register the providers, then a few referred requests of one kamer (``principal``);
    ``request_of(category, helper)`` makes a request body. The ids of the referrals."""
    provider_ids = [admin.register_provider(region, data) for data in PROVIDERS]
    referral_ids = []
    for helper, category, provider, note, answer in REFERRALS:
        request_id = admin.submit_request(principal, request_of(category, helper))
        referral_id = admin.refer(principal, request_id, provider_ids[provider], note)
        if answer == "accept":
            admin.answer_referral(referral_id, provider_ids[provider], accept=True, who="Marrit Hoekstra")
        elif answer == "decline":
            admin.answer_referral(referral_id, provider_ids[provider], accept=False,
                                  reason="Wachtlijst tot na de jaarwisseling")
        referral_ids.append(referral_id)
    return referral_ids
