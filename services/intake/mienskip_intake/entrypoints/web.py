"""The coordinator pages (``/review``) and a volunteer's link page (``/v/<token>``).

Server-rendered Jinja, plain forms, Post/Redirect/Get. Views are thin: who is signed in
comes from the session, what to show from ``service_layer.views``, what to do from the
workflow use cases. Everything the pages load ships in this package (``web/``).

Sign-in takes a kamer or coordinator token once; the signed session cookie then holds
the token's id, role, kamer and region (never the token), is HttpOnly and SameSite=Lax,
and every POST carries a per-session CSRF token. A revoked token ends its sessions.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import Engine
from werkzeug.exceptions import HTTPException

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts.vocabulary import CATEGORIES, DAYS
from mienskip_shared.links import InvalidLink, is_volunteer_link, verify_volunteer_link
from mienskip_shared.workers import Wakeup

from ..domain.model import ACTIONS, OPEN_STATUSES, Principal, Role, Status
from ..service_layer import handlers, privacy, views, workflow
from ..service_layer.common import Conflict, NotFound

WEB = Path(__file__).resolve().parent.parent / "web"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UI_LANGUAGES = ("nl", "en", "fy")
STAFF = (Role.KAMER, Role.COORDINATOR)  # operators see no personal data: they cannot sign in here
SESSION_HOURS = 8
MAX_REASON = 500
AUDIT_ROWS = 300
SECURITY_HEADERS = {
    # Nothing from elsewhere; no inline script or style; never framed.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a volunteer link's token must not leak to other sites
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # personal data: not in shared or back-button caches
}


class Messages:
    """The UI's words in nl (default), en and fy; a missing word falls back to Dutch."""

    def __init__(self, path: Path):
        self.table: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))

    def get(self, lang: str, key: str, **values: Any) -> str:
        text = self.table.get(lang, {}).get(key) or self.table["nl"].get(key) or key
        return text.format(**values) if values else text


def load_places(path: Path) -> list[views.Place]:
    with path.open(encoding="utf-8") as f:
        return [views.Place(r["name"], r["kind"], float(r["lat"]), float(r["lon"]))
                for r in csv.DictReader(line for line in f if not line.startswith("#"))]


def review_blueprint(engine: Engine, *, secret_key: str, relay_wakeup: Wakeup | None = None,
                     secure_cookies: bool = False, places_path: Path = WEB / "places.csv",
                     dead_letters: Callable[[], dict[str, int]] | None = None) -> Blueprint:
    """The pages; ``secure_cookies`` when served over HTTPS (behind a proxy, say);
    ``dead_letters`` counts the dead-letter queues for the attention page."""
    bp = Blueprint("review", __name__, template_folder=str(WEB / "templates"),
                   static_folder=str(WEB / "static"), static_url_path="/review/static")
    messages = Messages(WEB / "messages.json")
    places = load_places(places_path)
    wakeup = relay_wakeup or Wakeup()

    @bp.record_once
    def _configure(state) -> None:
        state.app.config.update(
            SESSION_COOKIE_NAME="mienskip_review", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=secure_cookies, PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))

    # -- language, words, formats --------------------------------------------------------------

    def lang() -> str:
        return g.get("lang") or session.get("lang") or "nl"

    def _(key: str, **values: Any) -> str:
        return messages.get(lang(), key, **values)

    def local(dt: datetime | None) -> datetime | None:
        return dt.astimezone(AMSTERDAM) if dt is not None else None

    def day(dt: datetime) -> str:
        d = local(dt)
        return f"{_('day.' + DAYS[d.weekday()])} {d.day} {_('month.' + str(d.month))}"

    def when(dt: datetime | None) -> str:
        return "—" if dt is None else f"{day(dt)} {local(dt):%H:%M}"

    def window(start: datetime, end: datetime) -> str:
        if local(start).date() == local(end).date():
            return f"{day(start)}, {local(start):%H:%M}–{local(end):%H:%M}"
        return f"{when(start)} – {when(end)}"

    def km(value: float | None) -> str:
        if value is None:
            return "—"
        text = f"{value:.1f}"
        return (text if lang() == "en" else text.replace(".", ",")) + " km"

    def bilingual(text: str | None) -> str:
        """Matching writes ``"Dutch / English"``; show the reader's half (Dutch for Frisian)."""
        if not text:
            return ""
        parts = text.split(" / ")
        if len(parts) != 2:
            return text
        return parts[1] if lang() == "en" else parts[0]

    def slot(label: str | None) -> str:
        """Matching's ``"mon 08:00-18:00"`` with the day in the reader's language."""
        if not label:
            return ""
        first, _sep, rest = label.partition(" ")
        return f"{_('day.' + first)} {rest.replace('-', '–')}" if first in DAYS else label

    def reasons(counts: dict[str, int]) -> str:
        return ", ".join(f"{n} × {_('reason.' + key)}" for key, n in counts.items()) or "—"

    def url_with_lang(code: str) -> str:
        args = request.args.to_dict()
        args["lang"] = code
        return f"{request.path}?{urlencode(args)}"

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_urlsafe(32)
        return session["csrf"]

    @bp.context_processor
    def _words() -> dict[str, Any]:
        principal = g.get("principal")
        who = None
        if principal is not None:
            who = views.kamer_name(engine, principal.kamer_id) if principal.kamer_id else principal.region
        return {"_": _, "lang": lang(), "languages": UI_LANGUAGES, "when": when, "window": window, "km": km,
                "day": day, "who": who, "bilingual": bilingual, "reasons": reasons, "slot": slot, "url_with_lang": url_with_lang,
                "csrf_token": csrf_token, "principal": principal, "categories": CATEGORIES}

    # -- every request ------------------------------------------------------------------------

    @bp.before_request
    def _prepare():
        wanted = request.args.get("lang")
        if request.path.startswith("/v/"):
            g.link_lang = wanted if wanted in UI_LANGUAGES else None
            return None  # a volunteer link needs no session; its forms carry their own check
        if wanted in UI_LANGUAGES:
            session["lang"] = wanted
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
                abort(403)
        return None

    @bp.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _error_page(status: int):
        return render_template("review/error.html", status=status), status

    @bp.errorhandler(NotFound)
    def _not_found(_exc):
        return _error_page(404)

    @bp.errorhandler(PermissionError)
    def _forbidden(_exc):
        return _error_page(403)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return _error_page(exc.code or 500)

    # -- who is signed in ---------------------------------------------------------------------

    def _session_principal() -> Principal | None:
        token_id, role = session.get("token_id"), session.get("role")
        if not token_id or role not in {r.value for r in STAFF}:
            return None
        return Principal(token_id=token_id, role=Role(role), kamer_id=session.get("kamer_id"),
                         region=session.get("region"))

    def signed_in(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = _session_principal()
            if principal is None or not views.token_active(engine, principal.token_id):
                for key in ("token_id", "role", "kamer_id", "region"):
                    session.pop(key, None)
                if request.method == "GET":
                    return redirect(url_for(".login", next=request.full_path.rstrip("?")))
                flash(_("flash.signed_out_expired"), "error")
                return redirect(url_for(".login"), 303)
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    def _safe_next(value: str | None, default: str) -> str:
        """Only back to our own pages: never an open redirect."""
        if value and value.startswith("/review") and not value.startswith("//") and "\\" not in value:
            return value
        return default

    def _visible_kamers() -> list[dict[str, Any]]:
        return views.visible_kamers(engine, g.principal)

    def _kamer_filter(kamers: list[dict[str, Any]]) -> str | None:
        wanted = request.args.get("kamer") or None
        return wanted if wanted in {k["id"] for k in kamers} else None

    @bp.get("/")
    def root():
        return redirect(url_for(".proposals"))

    @bp.route("/review/login", methods=["GET", "POST"])
    def login():
        target = _safe_next(request.values.get("next"), url_for(".proposals"))
        if request.method == "GET":
            if _session_principal() is not None:
                return redirect(target)
            return render_template("review/login.html", next=target)
        token = request.form.get("token", "").strip()
        principal = handlers.authenticate(engine, token) if token and not is_volunteer_link(token) else None
        if principal is None:
            return render_template("review/login.html", next=target, error=_("login.bad_token")), 401
        if principal.role not in STAFF:
            return render_template("review/login.html", next=target, error=_("login.wrong_role")), 403
        chosen = session.get("lang")
        session.clear()  # a fresh session (and CSRF token) for the new person
        session.permanent = True
        session.update(token_id=principal.token_id, role=principal.role.value, kamer_id=principal.kamer_id,
                       region=principal.region, csrf=secrets.token_urlsafe(32))
        if chosen:
            session["lang"] = chosen
        return redirect(target, 303)

    @bp.post("/review/logout")
    def logout():
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        flash(_("flash.signed_out"), "ok")
        return redirect(url_for(".login"), 303)

    # -- proposals and the actions on them ----------------------------------------------------

    @bp.get("/review/")
    @signed_in
    def proposals():
        kamers = _visible_kamers()
        kamer_id = _kamer_filter(kamers)
        items, total = views.proposals(engine, g.principal, places, kamer_id=kamer_id)
        return render_template("review/proposals.html", items=items, total=total, kamers=kamers,
                               kamer_id=kamer_id, here=request.full_path.rstrip("?"))

    def _act(do, done: str, back: str):
        try:
            do()
        except Conflict as exc:
            flash(_("flash.conflict", detail=str(exc)), "error")
        except workflow.UnknownVolunteer:
            flash(_("flash.unknown_volunteer"), "error")
        else:
            wakeup.set()  # the relay publishes the event now, not at its next poll
            flash(done, "ok")
        return redirect(_safe_next(request.form.get("next"), back), 303)

    @bp.post("/review/assignments/<assignment_id>/approve")
    @signed_in
    def approve(assignment_id):
        return _act(lambda: workflow.approve(engine, g.principal, assignment_id), _("flash.approved"),
                    url_for(".proposals"))

    @bp.post("/review/assignments/<assignment_id>/reject")
    @signed_in
    def reject(assignment_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON]
        if not reason:
            flash(_("flash.reason_needed"), "error")
            return redirect(_safe_next(request.form.get("next"), url_for(".proposals")), 303)
        return _act(lambda: workflow.reject(engine, g.principal, assignment_id, reason), _("flash.rejected"),
                    url_for(".proposals"))

    @bp.post("/review/assignments/<assignment_id>/reassign")
    @signed_in
    def reassign(assignment_id):
        volunteer_id = (request.form.get("volunteer_id") or request.form.get("volunteer_id_typed") or "").strip()
        if not volunteer_id:
            flash(_("flash.pick_volunteer"), "error")
            return redirect(_safe_next(request.form.get("next"), url_for(".proposals")), 303)
        return _act(lambda: workflow.reassign(engine, g.principal, assignment_id, volunteer_id),
                    _("flash.reassigned"), url_for(".proposals"))

    @bp.post("/review/assignments/bulk-approve")
    @signed_in
    def bulk_approve():
        ids = [i for i in request.form.getlist("ids") if i][:500]
        back = _safe_next(request.form.get("next"), url_for(".proposals"))
        if not ids:
            flash(_("flash.nothing_selected"), "error")
            return redirect(back, 303)
        results = workflow.bulk_approve(engine, g.principal, ids)
        ok = sum(1 for r in results if r["status"] == 200)
        if ok:
            wakeup.set()
        flash(_("flash.bulk", ok=ok, conflict=sum(1 for r in results if r["status"] == 409),
                missing=sum(1 for r in results if r["status"] == 404)), "ok" if ok == len(results) else "error")
        return redirect(back, 303)

    # -- one request, one volunteer -----------------------------------------------------------

    @bp.get("/review/requests/<request_id>")
    @signed_in
    def request_detail(request_id):
        record = handlers.get_request(engine, g.principal, request_id)  # audits the read
        context = views.request_context(engine, g.principal, record, places)
        current = context["current"]
        status = Status(record["status"])
        candidates = []
        if current is not None and status in ACTIONS["reassign"][0]:
            tried = {a["volunteer_id"] for a in context["assignments"]}
            candidates = views.reassign_candidates(engine, g.principal, record, exclude=tried)
        return render_template("review/request.html", r=record, ctx=context, current=current,
                               candidates=candidates, may_reassign=bool(current) and status in ACTIONS["reassign"][0],
                               may_cancel=status in OPEN_STATUSES, here=request.path)

    @bp.post("/review/requests/<request_id>/cancel")
    @signed_in
    def cancel(request_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return _act(lambda: handlers.cancel_request(engine, g.principal, request_id, reason), _("flash.cancelled"),
                    url_for(".request_detail", request_id=request_id))

    @bp.get("/review/volunteers/<volunteer_id>")
    @signed_in
    def volunteer_detail(volunteer_id):
        record = handlers.get_volunteer(engine, g.principal, volunteer_id)  # audits the read
        context = views.volunteer_context(engine, g.principal, record, utcnow(), places)
        return render_template("review/volunteer.html", v=record, ctx=context)

    # -- overviews ----------------------------------------------------------------------------

    @bp.get("/review/map")
    @signed_in
    def region_map():
        kamers = _visible_kamers()
        kamer_id = _kamer_filter(kamers)
        zoom = "city" if request.args.get("zoom") == "city" else "region"
        drawing = views.map_view(engine, g.principal, places, kamer_id=kamer_id, zoom=zoom)
        return render_template("review/map.html", m_=drawing, kamers=kamers, kamer_id=kamer_id, zoom=zoom)

    @bp.get("/review/dashboard")
    @signed_in
    def dashboard():
        return render_template("review/dashboard.html", d=views.dashboard(engine, g.principal, utcnow()))

    @bp.get("/review/attention")
    @signed_in
    def attention():
        dead = None
        if dead_letters is not None and g.principal.role is Role.COORDINATOR:
            try:
                dead = {queue: n for queue, n in dead_letters().items() if n}
            except Exception:  # noqa: BLE001 -- the broker being away must not take the page down
                dead = "unavailable"
        return render_template("review/attention.html", a=views.attention(engine, g.principal, places),
                               dead_letters=dead)

    @bp.get("/review/audit")
    @signed_in
    def audit_log():
        entries = privacy.audit_entries(engine, g.principal, limit=AUDIT_ROWS)  # coordinators only: else 403
        return render_template("review/audit.html", entries=entries, limit=AUDIT_ROWS)

    @bp.route("/review/policy/<kamer_id>", methods=["GET", "POST"])
    @signed_in
    def policy(kamer_id):
        if request.method == "POST":
            chosen = [c for c in request.form.getlist("categories") if c in CATEGORIES]
            workflow.set_auto_approve_categories(engine, g.principal, kamer_id, chosen)
            flash(_("flash.policy_saved"), "ok")
            return redirect(url_for(".policy", kamer_id=kamer_id), 303)
        current = workflow.auto_approve_categories(engine, g.principal, kamer_id)
        return render_template("review/policy.html", kamer_id=kamer_id, kamer_name=views.kamer_name(engine, kamer_id),
                               current=set(current), may_edit=g.principal.role is Role.COORDINATOR)

    # -- a volunteer's link (no session) ------------------------------------------------------

    def _link_principal(token: str) -> Principal:
        try:
            link = verify_volunteer_link(secret_key, token)
        except InvalidLink:
            abort(404)
        return Principal(token_id=link.volunteer_id, role=Role.VOLUNTEER, volunteer_id=link.volunteer_id,
                         assignment_id=link.assignment_id)

    def _link_check(token: str) -> str:
        """The link page's CSRF field: only someone who holds the link can make it."""
        return hmac.new(secret_key.encode(), f"volunteer-link-form:{token}".encode(), hashlib.sha256).hexdigest()

    @bp.get("/v/<token>")
    def volunteer_link(token):
        principal = _link_principal(token)
        task = views.volunteer_task(engine, principal, places)
        if task is None:
            abort(404)
        g.lang = g.link_lang or (task["language"] if task["language"] in UI_LANGUAGES else "nl")
        return render_template("review/link.html", task=task, token=token, check=_link_check(token),
                               done=request.args.get("done"))

    def _answer(token: str, do, done: str) -> Any:
        principal = _link_principal(token)
        if not hmac.compare_digest(request.form.get("check", ""), _link_check(token)):
            abort(403)
        try:
            do(principal)
        except Conflict:
            done = "conflict"
        else:
            wakeup.set()
        args = {"done": done, **({"lang": request.form["lang"]} if request.form.get("lang") in UI_LANGUAGES else {})}
        return redirect(url_for(".volunteer_link", token=token, **args), 303)

    @bp.post("/v/<token>/accept")
    def link_accept(token):
        return _answer(token, lambda p: workflow.accept(engine, p, p.assignment_id), "accepted")

    @bp.post("/v/<token>/decline")
    def link_decline(token):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return _answer(token, lambda p: workflow.decline(engine, p, p.assignment_id, reason), "declined")

    return bp
