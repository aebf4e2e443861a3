"""The likely-duplicate rule reads stored names with their spaces collapsed and their case
folded (issue 16): a volunteer stored as "Anna  de Vries" is found for "anna de vries"
(the volunteers' ``name_key``, which the migration fills in for those stored before it),
and a resident's stored name likewise (see test_intake_import_request_duplicates).
On SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select, update

from mienskip_intake.adapters import tables as t
from mienskip_intake.bootstrap import MIGRATIONS

ANNA = {"name": "Anna  de Vries", "language": "nl", "phone": "+31612345678", "home": {"lat": 53.2012, "lon": 5.7999},
        "skills": ["pets"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}


def register(client, kamer, **changes):
    return client.post("/v1/volunteers", json={**ANNA, **changes}, headers=kamer.headers)


def name_keys(engine) -> dict[str, str | None]:
    with engine.begin() as tx:
        return dict(tx.execute(select(t.volunteers.c.name, t.volunteers.c.name_key)).all())


def test_a_stored_name_with_double_spaces_or_capitals_is_found_whatever_is_typed(client, kamer_a):
    stored = register(client, kamer_a)
    assert stored.status_code == 201
    again = register(client, kamer_a, name="anna de vries", phone="06-12345678")
    assert again.status_code == 409 and again.get_json()["existing_id"] == stored.get_json()["id"]
    assert register(client, kamer_a, name="  ANNA   DE VRIES ", phone="06 1234 5678").status_code == 409

    other = register(client, kamer_a, name="Baukje  BOUMA", phone="+31698765432").get_json()["id"]
    assert client.patch(f"/v1/volunteers/{other}", json={"name": "Hiltsje   Bouma"},
                        headers=kamer_a.headers).status_code == 200  # a new name, a new key
    assert register(client, kamer_a, name="hiltsje bouma", phone="0698765432").status_code == 409
    assert register(client, kamer_a, name="baukje bouma", phone="0698765432").status_code == 201


def test_the_migration_gives_volunteers_stored_before_it_their_key(intake, client, kamer_a):
    assert register(client, kamer_a, name="Anna  DE Vries").status_code == 201
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["version_table"] = "alembic_version_intake"
    with intake.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "a7c3e91f5d28")  # as before this change: no key
    with intake.engine.begin() as connection:
        assert "name_key" not in {c["name"] for c in inspect(connection).get_columns("intake_volunteers")}
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert name_keys(intake.engine) == {"Anna  DE Vries": "anna de vries"}
    assert register(client, kamer_a, name="anna de vries").status_code == 409


def test_an_erased_volunteer_keeps_no_name_and_no_key(intake, client, kamer_a):
    from intake_support import uow

    from mienskip_intake.domain.commands import EraseVolunteer
    from mienskip_intake.service_layer import privacy

    volunteer = register(client, kamer_a).get_json()["id"]
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))
    assert name_keys(intake.engine) == {"": ""}
    with intake.engine.begin() as tx:
        tx.execute(update(t.volunteers).values(name_key=None))  # nothing reads an erased one's key
    assert register(client, kamer_a).status_code == 201
