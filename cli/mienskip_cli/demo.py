"""Demo data from real places in Leeuwarden (data/leeuwarden_places.csv, see its note),
and the sign-in `make demo` prints and keeps between runs.

Four kamers from DOMAIN.md, volunteers living around the places, and a handful of
help requests in the coming days; care providers and a few referrals (:mod:`.demo_referrals`). Everything goes through intake's own use cases, so
the demo exercises the same path as a kamer's system does.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from mienskip_intake.bootstrap import Admin, Conflict

from .demo_month import load_past_month
from .demo_referrals import load_referrals
from .leeuwarden import CATEGORY_MIX, DEFAULT_PLACES, Place, load_places

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DEMO_DATA_DIR = Path("var/demo")  # where `make demo` keeps its data between runs
DEMO_CREDENTIALS = "demo-sign-in.json"  # the sign-in it prints, kept beside the data (0600)
KAMERS = [("Buurtkamer Bilgaard", "Bilgaard"), ("Dorpskamer De Wjukken", "Mantgum"),
          ("Dorpskamer De Skalm", "Stiens"), ("Dorpskamer Grou", "Grou")]
FIRST_NAMES = ["Anna", "Sjoukje", "Wytske", "Jan", "Pieter", "Hiltsje", "Durk", "Fatima", "Oksana",
               "Tjitske", "Gerrit", "Marrit", "Yusuf", "Auke", "Baukje", "Emre", "Geartsje", "Ids"]
LAST_NAMES = ["de Vries", "Hoekstra", "Dijkstra", "Visser", "Bouma", "Postma", "van der Meer",
              "Veenstra", "Kingma", "Terpstra", "El Amrani", "Kowalski", "Yılmaz", "Boersma"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _near(rng: random.Random, place: Place, spread: float = 0.01) -> dict[str, float]:
    return {"lat": round(place.lat + rng.uniform(-spread, spread), 5),
            "lon": round(place.lon + rng.uniform(-spread, spread) * 1.6, 5)}


@dataclass
class DemoResult:
    kamers: list[dict]
    coordinator_token: str
    operator_token: str
    volunteers: int
    requests: list[str]
    people: list[dict] = field(default_factory=list)  # role, e-mail, password: sign in at /login


def load_demo(admin: Admin, *, seed: int = 2026, volunteers_per_kamer: int = 15,
              requests_per_kamer: int = 4, places_path: Path = DEFAULT_PLACES,
              today: datetime | None = None) -> DemoResult:
    rng = random.Random(seed)
    places = {p.name: p for p in load_places(places_path)}
    all_places = list(places.values())
    today = (today or datetime.now(UTC)).astimezone(AMSTERDAM)
    kamers, request_ids, volunteer_count = [], [], 0
    for kamer_name, place_name in KAMERS:
        home = places[place_name]
        kamer_id = admin.add_kamer(name=kamer_name, lat=home.lat, lon=home.lon,
                                   email=f"{place_name.lower()}@kamers.example.org",
                                   phone=f"058 {212 + len(kamers)} 00 00")  # made up, as the demo's people
        token_id, token = admin.add_token("kamer", kamer_id=kamer_id, label=kamer_name)
        nearby = sorted(all_places, key=lambda p: (p.lat - home.lat) ** 2 + (p.lon - home.lon) ** 2)[:6]
        kamers.append({"id": kamer_id, "name": kamer_name, "place": place_name, "token": token,
                       "principal": admin.as_kamer(kamer_id, token_id), "nearby": nearby})
        for _ in range(volunteers_per_kamer):
            admin.register_volunteer(kamers[-1]["principal"], _volunteer(rng, rng.choice(nearby)))
            volunteer_count += 1
    for kamer in kamers:  # requests after every pool is known, as on a real first day
        principal, nearby = kamer.pop("principal"), kamer.pop("nearby")
        for _ in range(requests_per_kamer):
            request_ids.append(admin.submit_request(principal, _request(rng, rng.choice(nearby), today)))
        if kamer is kamers[0]:  # a few referrals to care providers (issue 13)
            load_referrals(admin, principal, lambda category, helper, near=nearby: {
                **_request(rng, rng.choice(near), today), "category": category, "skills": [category], "helper": helper})
    load_past_month(admin, kamers, today=today)  # last month, for the monthly report (demo_month.py)
    _, coordinator = admin.add_token("coordinator", region="leeuwarden", label="demo coordinator")
    _, operator = admin.add_token("operator", label="demo operator")
    return DemoResult(kamers, coordinator, operator, volunteer_count, request_ids, _people(admin, kamers[0]))


def _people(admin: Admin, kamer: dict) -> list[dict]:
    """A demo coordinator and a demo staff member (the lead of the first kamer), with
    fresh random passwords: printed once, like the tokens."""
    people = [
        {"role": "coordinator (leeuwarden)", "email": "coordinator@demo.mienskip.example",
         "invite": {"role": "coordinator", "region": "leeuwarden", "name": "Demo Coördinator"}},
        {"role": f"staff {kamer['name']}", "email": f"staff.{kamer['place'].lower()}@demo.mienskip.example",
         "invite": {"role": "staff", "kamer_ids": (kamer["id"],), "lead": True, "name": "Demo Medewerker"}},
    ]
    for person in people:
        person["password"] = "Demo-" + secrets.token_urlsafe(12)
        invite = person.pop("invite")
        try:
            admin.add_person(person["email"], invite.pop("role"), person["password"], **invite)
        except Conflict:  # kept from an earlier run (--keep): its password is the one printed then
            person["password"] = "(as before)"
    return people


def _volunteer(rng: random.Random, place: Place) -> dict:
    skills = rng.sample(list(CATEGORY_MIX), k=rng.randint(2, 5))
    days = rng.sample(DAYS, k=rng.randint(2, 5))
    language = rng.choice(["nl", "nl", "fy", "fy", "en"])
    return {
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "email": None, "phone": None, "language": language,
        "languages": sorted({language, "nl"}), "home": _near(rng, place),
        "skills": skills, "has_car": "transport" in skills or rng.random() < 0.4,
        "vog_checked_on": (datetime(2026, 1, 1) + timedelta(days=rng.randint(0, 200))).date()
        if rng.random() < 0.5 else None,
        "availability": [{"day": d, "start": "08:00", "end": "18:00"} for d in days],
        "max_tasks_per_week": rng.randint(1, 3), "max_distance_km": rng.choice([5.0, 10.0, 15.0]),
    }


def _request(rng: random.Random, place: Place, today: datetime) -> dict:
    category = rng.choices(list(CATEGORY_MIX), weights=list(CATEGORY_MIX.values()))[0]
    day = (today + timedelta(days=rng.randint(2, 9))).replace(hour=rng.randint(9, 15), minute=0,
                                                              second=0, microsecond=0)
    return {
        "resident": {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", "phone": None,
                     "language": rng.choice(["nl", "fy", "en"]), "address": f"{place.name}"},
        "location": _near(rng, place, 0.005), "category": category, "skills": [category],
        "needs_vog": category == "respite", "needs_language": None,
        "window": {"start": day, "end": day + timedelta(hours=1)},
        "recurrence": None, "urgency": "normal", "notes": None,
    }


# -- what the demo prints, kept between runs ----------------------------------------------------

def demo_sign_in(result) -> dict:
    """What the banner shows, kept between runs."""
    return {"kamers": [{"name": k["name"], "token": k["token"]} for k in result.kamers],
            "coordinator": result.coordinator_token, "operator": result.operator_token, "people": result.people,
            "volunteers": result.volunteers, "requests": result.requests}


def demo_banner(shown: dict, base: str, data_dir: Path, log_file: Path) -> str:
    kamers = shown["kamers"]
    return "\n".join([
        "", "Mienskip demo is running / Mienskip demo draait",
        f"  Desk and review: {base}/review/  (sign in with a kamer or the coordinator token below)",
        f"  API:             {base}/v1",
        f"  OpenAPI:         {base}/openapi.json",
        f"  Mailbox:         {data_dir / 'mailbox'}",
        f"  Log:             {log_file}",
        f"  Data:            {len(kamers)} kamers, {shown['volunteers']} volunteers, {len(shown['requests'])} "
        "requests (kept between runs; make demo ARGS=--fresh or mienskip demo --fresh starts over)", "",
        "Try / Probeer:",
        f"  curl -H 'Authorization: Bearer {kamers[0]['token']}' {base}/v1/requests/{shown['requests'][0]}", "",
        f"People / Minsken (sign in at {base}/login with e-mail and password):",
        *(f"  {p['role']:<30} {p['email']}  {p['password']}" for p in shown.get("people", [])), "",
        "Systems / Systemen (API tokens; also sign in at /review/login):",
        *(f"  kamer {k['name']:<24} {k['token']}" for k in kamers),
        f"  coordinator (leeuwarden)       {shown['coordinator']}",
        f"  operator                       {shown['operator']}", "",
    ])
