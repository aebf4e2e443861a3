"""The people page (issue 16): coordinators deactivate and reactivate their region's
people, kamer leads their kamer's staff; never themselves; deactivating ends the
person's sessions at once (the command line's service function); the audit log names
who did it. Flask's test client on SQLite and PostgreSQL."""

from __future__ import annotations

from account_support import browser, invite, log_in, person_of
from intake_support import Kamer, uow
from sqlalchemy import select
from ui_support import post_form, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.commands import DeactivatePerson
from mienskip_intake.service_layer import accounts
from mienskip_shared.clock import utcnow


def audited(intake, subject_id):
    with intake.engine.begin() as tx:
        return [(r.action, r.user_id, r.token_id) for r in tx.execute(
            select(t.audit_log).where(t.audit_log.c.subject_id == subject_id).order_by(t.audit_log.c.id))]


def active(intake, user_id) -> bool:
    with intake.engine.begin() as tx:
        return tx.execute(select(t.users.c.active).where(t.users.c.id == user_id)).scalar_one()


def test_a_coordinator_deactivates_and_reactivates_someone_of_their_region(intake, kamer_a, kamer_b):
    boss_id, boss = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden",
                              display_name="Durk")
    anna_id, anna = person_of(intake, "anna@example.org", kamer_ids=(kamer_a.id,))
    phone = browser(intake)
    assert log_in(phone, "anna@example.org").status_code == 303  # Anna on a second device
    person_of(intake, "baukje@example.org", kamer_ids=(kamer_b.id,), lead=True)
    person_of(intake, "elsewhere@example.org", "coordinator", region="sudwest-fryslan")
    invite(intake, "operator@example.org", "operator")

    page = boss.get("/account/people")
    listed = text_of(page)
    assert page.status_code == 200
    for shown in ("anna@example.org", "baukje@example.org", "coordinator@example.org", "Buurtkamer Bilgaard",
                  "Dorpskamer De Wjukken", "Medewerker", "leiding"):
        assert shown in listed
    assert "elsewhere@example.org" not in listed and "operator@example.org" not in listed
    assert f"/account/people/{boss_id}/deactivate" not in page.get_data(as_text=True)  # never themselves
    assert "dat bent u" in listed

    done = post_form(boss, f"/account/people/{anna_id}/deactivate")
    assert done.status_code == 303 and done.headers["Location"] == "/account/people"
    assert not active(intake, anna_id)
    for device in (anna, phone):  # every session of hers ended at once
        assert device.get("/desk").headers["Location"].startswith("/login")
    assert log_in(browser(intake), "anna@example.org").status_code == 401
    assert "anna@example.org is gedeactiveerd en overal afgemeld." in text_of(boss.get("/account/people"))

    assert post_form(boss, f"/account/people/{anna_id}/reactivate").status_code == 303
    assert active(intake, anna_id)
    assert log_in(browser(intake), "anna@example.org").status_code == 303
    assert audited(intake, anna_id) == [("deactivate", boss_id, None), ("reactivate", boss_id, None)]
    audit_page = text_of(boss.get("/review/audit"))
    assert "gedeactiveerd" in audit_page and "geheractiveerd" in audit_page and "(Durk)" in audit_page


def test_nobody_deactivates_themselves_nor_someone_out_of_their_reach(intake, kamer_a, kamer_b):
    boss_id, boss = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden")
    far_id, _ = person_of(intake, "elsewhere@example.org", "coordinator", region="sudwest-fryslan")
    assert post_form(boss, f"/account/people/{boss_id}/deactivate").status_code == 403
    assert post_form(boss, f"/account/people/{far_id}/deactivate").status_code == 404  # another region's
    assert post_form(boss, "/account/people/no-such-person/deactivate").status_code == 404
    assert active(intake, boss_id) and active(intake, far_id)
    _, staff = person_of(intake, "anna@example.org", kamer_ids=(kamer_a.id,))
    assert staff.get("/account/people").status_code == 403  # staff who are no lead
    assert post_form(staff, f"/account/people/{boss_id}/deactivate").status_code == 404
    assert audited(intake, boss_id) == []


def test_a_lead_manages_the_staff_of_their_kamer_only(intake, kamer_a, kamer_b):
    kamer_c = Kamer(intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    lead_id, lead = person_of(intake, "lead@example.org", kamer_ids=(kamer_a.id, kamer_b.id), lead=True)
    ours_id, _ = person_of(intake, "ours@example.org", kamer_ids=(kamer_a.id,))
    both_id, _ = person_of(intake, "both@example.org", kamer_ids=(kamer_a.id, kamer_b.id))
    shared_id, _ = person_of(intake, "shared@example.org", kamer_ids=(kamer_a.id, kamer_c.id))
    other_id, _ = person_of(intake, "other@example.org", kamer_ids=(kamer_c.id,))
    boss_id, _ = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden")

    page = lead.get("/account/people").get_data(as_text=True)
    for shown in ("ours@example.org", "both@example.org", "shared@example.org", "lead@example.org"):
        assert shown in page
    assert "other@example.org" not in page and "coordinator@example.org" not in page
    assert f"{shared_id}/deactivate" not in page and f"{lead_id}/deactivate" not in page

    assert post_form(lead, f"/account/people/{ours_id}/deactivate").status_code == 303
    assert post_form(lead, f"/account/people/{both_id}/deactivate").status_code == 303  # both kamers are the lead's
    # Grou's too: deactivating would shut them out of a kamer the lead does not run
    assert post_form(lead, f"/account/people/{shared_id}/deactivate").status_code == 403
    assert post_form(lead, f"/account/people/{other_id}/deactivate").status_code == 404
    assert post_form(lead, f"/account/people/{boss_id}/deactivate").status_code == 404
    assert post_form(lead, f"/account/people/{lead_id}/deactivate").status_code == 403
    assert [active(intake, i) for i in (ours_id, both_id, shared_id, other_id, boss_id, lead_id)] == [
        False, False, True, True, True, True]
    assert audited(intake, ours_id) == [("deactivate", lead_id, None)]

    post_form(lead, "/account/kamer", {"kamer": kamer_b.id})  # the list follows the chosen kamer
    page = lead.get("/account/people").get_data(as_text=True)
    assert "both@example.org" in page and "ours@example.org" not in page


def test_the_command_line_deactivates_through_the_same_function_audited_as_the_system(intake, kamer_a):
    anna_id, anna = person_of(intake, "anna@example.org", kamer_ids=(kamer_a.id,))
    accounts.deactivate(DeactivatePerson(anna_id), uow(intake.engine), utcnow())
    assert anna.get("/desk").headers["Location"].startswith("/login")
    assert audited(intake, anna_id) == [("deactivate", None, "system")]
