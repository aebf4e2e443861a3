"""The ``mienskip`` command (API.md, "Running").

It starts services and administers intake only through each service's ``bootstrap``;
it holds no business rules of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
from pathlib import Path

import click
import structlog
from sqlalchemy.exc import OperationalError

from mienskip_intake import bootstrap as intake_bootstrap
from mienskip_intake.settings import Settings as IntakeSettings
from mienskip_matching import bootstrap as matching_bootstrap
from mienskip_matching.settings import Settings as MatchingSettings
from mienskip_notify import bootstrap as notify_bootstrap
from mienskip_notify.settings import Settings as NotifySettings
from mienskip_shared.files import private_file
from mienskip_shared.logging import configure_logging
from mienskip_shared.runtime import HealthServer, Service, start_workers, stop_on_signals, stop_process
from mienskip_shared.settings import SQLITE_FILE

from . import dlq, web
from .demo import DEMO_CREDENTIALS, DEMO_DATA_DIR, demo_banner, demo_sign_in, load_demo
from .migrations import migrate_every_service

log = structlog.get_logger("mienskip")

data_dir_option = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                               help="Where the embedded SQLite database lives (default var/).")


def _settings(cls, data_dir: Path | None, **overrides):
    return cls.from_env(data_dir=data_dir, **overrides)


@click.group()
def main() -> None:
    """Mienskip: regional help matching for buurtkamers and dorpskamers."""
    # Every command logs, to stderr, from the start: stdout is for its answer (``--json``).
    # The services' commands configure again, naming themselves.
    settings = IntakeSettings.from_env()
    configure_logging(settings.log_level, settings.log_json)


# -- running -------------------------------------------------------------------------

def _serve_http(service: Service, host: str, port: int, stop: threading.Event, server=None) -> int:
    """Serve intake's app on ``server`` (bound by ``intake_bootstrap.http_server``), or on a new one."""
    server = server or intake_bootstrap.http_server(host, port)
    server.app = service.wsgi_app
    threading.Thread(target=lambda: (stop.wait(), server.shutdown()), daemon=True).start()
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server.server_port


def own_url(host: str, port: int) -> str | None:
    """API.md: links in messages start with MIENSKIP_PUBLIC_URL, by default the server's own
    address, the port it was given or chose included; None when the variable is set."""
    return None if os.environ.get("MIENSKIP_PUBLIC_URL") else f"http://{host}:{port}"


def build_all(data_dir: Path | None, public_url: str | None = None) -> list[Service]:
    """``public_url``: where links in messages (notify's) and invitations (intake's) point, unless
    MIENSKIP_PUBLIC_URL says."""
    return [
        intake_bootstrap.build(_settings(IntakeSettings, data_dir, public_url=public_url)),
        matching_bootstrap.build(_settings(MatchingSettings, data_dir)),
        notify_bootstrap.build(_settings(NotifySettings, data_dir, public_url=public_url)),
    ]


def run_all(services: list[Service], host: str, port: int, stop: threading.Event,
            on_ready=None, server=None) -> None:
    threads = start_workers([w for s in services for w in s.workers], stop)
    actual_port = _serve_http(services[0], host, port, stop, server)
    if on_ready is not None:
        on_ready(actual_port)
    log.info("mienskip.serving", url=f"http://{host}:{actual_port}")
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    for service in services:
        service.dispose()


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000, or MIENSKIP_PORT).")
@data_dir_option
def serve(host: str | None, port: int | None, data_dir: Path | None) -> None:
    """All three services in one process (embedded transport unless configured)."""
    settings = _settings(IntakeSettings, data_dir)
    stop = threading.Event()
    stop_on_signals(stop)
    host = host or settings.host
    server = intake_bootstrap.http_server(host, port if port is not None else settings.port)  # bound: its port known
    run_all(build_all(data_dir, own_url(host, server.server_port)), host, server.server_port, stop, server=server)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--api/--no-api", default=True, help="Serve the HTTP API.")
@click.option("--workers/--no-workers", default=True, help="Run the outbox relay and consumer.")
@click.option("--web-workers", type=click.IntRange(0, 64), default=2, show_default=True,
              help="gunicorn processes serving the API (0: werkzeug's server in this process, for development).")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True,
              help="Threads per gunicorn process.")
@click.option("--health-port", type=int, default=None,
              help="With --no-api: serve /healthz, /readyz, /metrics here (default MIENSKIP_HEALTH_PORT).")
@data_dir_option
def intake(host, port, api: bool, workers: bool, web_workers: int, threads: int, health_port, data_dir) -> None:
    """The intake service alone: the HTTP API under gunicorn (as the image runs it), with the
    outbox relay and the consumers in this process."""
    settings = _settings(IntakeSettings, data_dir)
    configure_logging(settings.log_level, settings.log_json, service="intake")
    service = intake_bootstrap.build(settings, with_workers=workers)
    stop = threading.Event()
    stop_on_signals(stop)
    threads_running = start_workers(
        service.workers + ([] if api else _health_server(service, settings, health_port)), stop)
    host, port = host or settings.host, port if port is not None else settings.port
    gunicorn = None
    if api and web_workers:
        if port == 0:
            raise click.UsageError("--port 0 (any free port) needs --web-workers 0")
        env = {**os.environ, **({"MIENSKIP_DATA_DIR": str(data_dir)} if data_dir else {})}
        gunicorn = web.start_gunicorn(host, port, workers=web_workers, threads=threads, env=env)
        threading.Thread(target=lambda: (gunicorn.wait(), stop.set()), name="gunicorn-watch", daemon=True).start()
        log.info("intake.serving", url=f"http://{host}:{port}", server="gunicorn", web_workers=web_workers)
    elif api:
        bound = _serve_http(service, host, port, stop)
        log.info("intake.serving", url=f"http://{host}:{bound}", server="werkzeug")
    stop.wait()
    if gunicorn is not None:
        stop_process(gunicorn)  # gunicorn finishes the requests in flight
    for thread in threads_running:
        thread.join(timeout=10)


def _health_server(service: Service, settings, health_port: int | None) -> list[HealthServer]:
    """``/healthz``, ``/readyz`` and ``/metrics`` for a process without intake's web app, when a
    port is given (``--health-port`` or MIENSKIP_HEALTH_PORT): what Kubernetes probes."""
    port = health_port if health_port is not None else settings.health_port
    return [HealthServer(settings.health_host, port, service.check_ready)] if port else []


def _run_worker_service(name: str, bootstrap, settings_cls, data_dir, health_port) -> None:
    settings = _settings(settings_cls, data_dir)
    configure_logging(settings.log_level, settings.log_json, service=name)
    service = bootstrap.build(settings)
    workers = service.workers + _health_server(service, settings, health_port)
    stop = threading.Event()
    stop_on_signals(stop)
    threads = start_workers(workers, stop)
    log.info(f"{name}.running", workers=[w.name for w in workers])
    stop.wait()
    for thread in threads:
        thread.join(timeout=10)
    service.dispose()


@main.command()
@click.option("--health-port", type=int, default=None, help="Serve /healthz, /readyz, /metrics here.")
@data_dir_option
def matching(health_port, data_dir) -> None:
    """The matching service alone; run several for more throughput."""
    _run_worker_service("matching", matching_bootstrap, MatchingSettings, data_dir, health_port)


@main.command()
@click.option("--health-port", type=int, default=None, help="Serve /healthz, /readyz, /metrics here.")
@data_dir_option
def notify(health_port, data_dir) -> None:
    """The notify service alone."""
    _run_worker_service("notify", notify_bootstrap, NotifySettings, data_dir, health_port)


@main.command()
@click.option("--check", is_flag=True,
              help="Change nothing: exit 1 unless every service's tables are at the newest migration.")
@data_dir_option
def migrate(check: bool, data_dir) -> None:
    """Bring every service's tables to the newest migration, then exit: a deployment's
    one-shot step (Kubernetes: the Job mienskip-migrate; the services wait with --check)."""
    settings_of = {"intake": IntakeSettings, "matching": MatchingSettings, "notify": NotifySettings}
    try:
        behind = migrate_every_service(lambda name: _settings(settings_of[name], data_dir).database_url, check)
    except OperationalError as exc:
        raise click.ClickException(f"the database is not reachable: {str(exc.orig).strip().splitlines()[0]}") from None
    if behind:
        raise click.ClickException(f"not at the newest migration yet: {', '.join(behind)}")
    click.echo("every service's tables are at the newest migration")


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--fresh", is_flag=True, help="Throw the demo's data away and load it anew.")
@data_dir_option
def demo(host, port, fresh: bool, data_dir: Path | None) -> None:
    """Serve everything with the Leeuwarden demo data loaded, and print where to look.

    The data stays between runs (``--fresh`` starts over), and so does the sign-in: the
    demo's tokens are kept beside its database, readable by this user only. The services'
    log goes to ``mienskip.log`` there, so the sign-in printed last stays on screen.
    """
    data_dir = data_dir or DEMO_DATA_DIR
    credentials = data_dir / DEMO_CREDENTIALS
    if fresh or not credentials.exists():
        for leftover in data_dir.glob(SQLITE_FILE + "*"):
            leftover.unlink()
        shutil.rmtree(data_dir / "mailbox", ignore_errors=True)
        credentials.unlink(missing_ok=True)
    settings = _settings(IntakeSettings, data_dir)
    host = host or settings.host
    log_file = _log_to_file(data_dir / "mienskip.log", settings)
    server = intake_bootstrap.http_server(host, port if port is not None else settings.port)
    services = build_all(data_dir, own_url(host, server.server_port))
    if credentials.exists():
        shown = json.loads(credentials.read_text(encoding="utf-8"))
    else:
        result = load_demo(intake_bootstrap.Admin(_settings(IntakeSettings, data_dir), migrate=False))
        shown = demo_sign_in(result)
        private_file(credentials).write_text(json.dumps(shown, ensure_ascii=False, indent=1), encoding="utf-8")
    stop = threading.Event()
    stop_on_signals(stop)

    def banner(bound_port: int) -> None:
        click.echo(demo_banner(shown, f"http://{host}:{bound_port}", data_dir, log_file))

    run_all(services, host, server.server_port, stop, on_ready=banner, server=server)


def _log_to_file(path: Path, settings: IntakeSettings) -> Path:
    private_file(path)  # its folder is the data directory: made 0700 here when it is new
    stream = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the process's life
    configure_logging(settings.log_level, settings.log_json, stream=stream)
    return path



# -- administration -------------------------------------------------------------------


def _intake_admin(data_dir: Path | None) -> intake_bootstrap.Admin:
    """Intake's administration on the chosen database. Without ``--data-dir`` and
    without ``MIENSKIP_DATABASE_URL`` an administrative command never silently starts a
    second, empty database beside the demo's: it says where the demo's is."""
    settings = _settings(IntakeSettings, data_dir)
    default_db = Path(settings.data_dir) / SQLITE_FILE
    embedded = settings.database_url == f"sqlite:///{default_db}"
    if data_dir is None and embedded and not default_db.exists() and (DEMO_DATA_DIR / SQLITE_FILE).exists():
        raise click.UsageError(f"there is no database in {settings.data_dir}/ yet; the demo's is in "
                               f"{DEMO_DATA_DIR}/: add --data-dir {DEMO_DATA_DIR} (or --data-dir "
                               f"{settings.data_dir} to start a new one there)")
    return intake_bootstrap.Admin(settings)


def _clock_time(_ctx, _param, value: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        raise click.BadParameter("a local time as HH:MM, e.g. 18:00")
    return value


@main.group()
def kamer() -> None:
    """Buurtkamers and dorpskamers."""


@kamer.command("add")
@click.option("--name", required=True)
@click.option("--lat", type=float, required=True)
@click.option("--lon", type=float, required=True)
@click.option("--region", default="leeuwarden", show_default=True)
@click.option("--email", default=None)
@click.option("--webhook-url", default=None)
@click.option("--language", default="nl", show_default=True)
@click.option("--phone", default=None, help="The number volunteers call with a question (shown on their page).")
@click.option("--mileage-rate", type=click.FloatRange(0, 5), default=0.30, show_default=True,
              help="Euro paid back per km driven for a visit.")
@click.option("--reminder-time", default="18:00", show_default=True, callback=_clock_time,
              help="Reminders go the day before at this local time (HH:MM).")
@click.option("--follow-up-days", type=click.IntRange(1, 30), default=3, show_default=True,
              help="Residents are asked how it went this many days after the task.")
@click.option("--json", "as_json", is_flag=True, help="Print {\"id\", \"token\"} as JSON.")
@data_dir_option
def kamer_add(name, lat, lon, region, email, webhook_url, language, phone, mileage_rate, reminder_time,
              follow_up_days, as_json, data_dir) -> None:
    """Register a kamer and print its first token (shown once)."""
    admin = _intake_admin(data_dir)
    kamer_id = admin.add_kamer(name=name, lat=lat, lon=lon, region=region, email=email,
                               webhook_url=webhook_url, language=language, phone=phone,
                               mileage_rate_cents=round(mileage_rate * 100), reminder_time=reminder_time,
                               follow_up_days=follow_up_days)
    token_id, token = admin.add_token("kamer", kamer_id=kamer_id, label=name)
    _print({"id": kamer_id, "token": token, "token_id": token_id}, as_json)


@kamer.command("list")
@click.option("--json", "as_json", is_flag=True, help='Print [{"id", "name", "region"}] as JSON.')
@data_dir_option
def kamer_list(as_json, data_dir) -> None:
    """Every kamer's id, name and region."""
    kamers = _intake_admin(data_dir).kamers()
    if as_json:
        click.echo(json.dumps(kamers, ensure_ascii=False))
        return
    for k in kamers:
        click.echo(f"{k['id']}  {k['region']:<14} {k['name']}")
    if not kamers:
        click.echo("no kamers yet: mienskip kamer add --name NAME --lat LAT --lon LON")


@main.group()
def token() -> None:
    """API tokens: random, shown once, stored hashed, revocable."""


@token.command("add")
@click.option("--role", type=click.Choice(intake_bootstrap.ROLES), required=True)
@click.option("--kamer", "kamer_id", default=None, help="For --role kamer: the kamer's id.")
@click.option("--region", default=None, help="For coordinators: the region they cover.")
@click.option("--json", "as_json", is_flag=True)
@data_dir_option
def token_add(role, kamer_id, region, as_json, data_dir) -> None:
    """Issue a token for a role."""
    if role == "coordinator" and region is None:
        region = "leeuwarden"
    if role == "kamer" and not kamer_id:
        raise click.UsageError("--role kamer needs --kamer ID")
    try:
        token_id, raw = _intake_admin(data_dir).add_token(role, kamer_id=kamer_id, region=region)
    except intake_bootstrap.NotFound:
        raise click.UsageError(f"no kamer {kamer_id}") from None
    _print({"token": raw, "token_id": token_id, "role": role, "region": region}, as_json)


@token.command("revoke")
@click.argument("token_id")
@data_dir_option
def token_revoke(token_id, data_dir) -> None:
    """Revoke a token by its id; it stops working at once."""
    if not _intake_admin(data_dir).revoke_token(token_id):
        raise click.ClickException(f"no active token {token_id}")
    click.echo(f"revoked {token_id}")


@main.group()
def user() -> None:
    """People who sign in to the pages with e-mail and password."""


@user.command("invite")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(intake_bootstrap.PERSON_ROLES), required=True)
@click.option("--kamer", "kamer_ids", multiple=True, help="For staff: their kamer's id (repeat for several).")
@click.option("--region", default=None, help="For coordinators: the region they cover.")
@click.option("--lead", is_flag=True, help="Staff who may invite their kamer's other staff.")
@click.option("--name", default=None, help="How the pages greet them (optional).")
@click.option("--language", type=click.Choice(["nl", "fy", "en"]), default="nl", show_default=True,
              help="The invitation e-mail's language.")
@click.option("--json", "as_json", is_flag=True, help="Print {\"id\", \"invite_url\"} as JSON.")
@data_dir_option
def user_invite(email, role, kamer_ids, region, lead, name, language, as_json, data_dir) -> None:
    """Invite a person: a link to set their password (valid 7 days), also e-mailed by notify."""
    if role in ("staff", "coordinator") and not (kamer_ids or region):
        raise click.UsageError(f"--role {role} needs --kamer ID or --region R")
    try:
        invited = _intake_admin(data_dir).invite_person(email, role, kamer_ids=tuple(kamer_ids), region=region,
                                                        lead=lead, name=name, language=language)
    except intake_bootstrap.InvalidInvitation as exc:
        raise click.UsageError(f"--{exc.field}: {exc.problem}") from None
    except intake_bootstrap.Conflict:
        raise click.ClickException(f"{email} has an account already") from None
    _print({"id": invited.user_id, "invite_url": invited.link, "expires_at": invited.expires_at.isoformat()},
           as_json)


@user.command("deactivate")
@click.argument("user_id")
@data_dir_option
def user_deactivate(user_id, data_dir) -> None:
    """A person can no longer sign in; every session of theirs ends at once."""
    try:
        _intake_admin(data_dir).deactivate_person(user_id)
    except intake_bootstrap.NotFound:
        raise click.ClickException(f"no person {user_id}") from None
    click.echo(f"deactivated {user_id}")


@main.command()
@click.argument("kind", type=click.Choice(["resident", "volunteer"]))
@click.argument("subject_id")
@data_dir_option
def erase(kind: str, subject_id: str, data_dir) -> None:
    """Erase a resident (by request id) or a volunteer everywhere (AVG art. 17)."""
    try:
        _intake_admin(data_dir).erase(kind, subject_id)
    except intake_bootstrap.NotFound:
        raise click.ClickException(f"no {kind} {subject_id}") from None
    click.echo(f"erased {kind} {subject_id}; matching and notify follow via personal_data.erased")


@main.group()
def retention() -> None:
    """Retention of personal data."""


@retention.command("run")
@click.option("--days", type=int, default=None, help="Keep closed requests this long (default setting).")
@data_dir_option
def retention_run(days: int | None, data_dir) -> None:
    """Anonymise requests closed longer ago than the retention period, now."""
    settings = _settings(IntakeSettings, data_dir)
    count = _intake_admin(data_dir).apply_retention(days if days is not None else settings.retention_days)
    click.echo(f"anonymised {count} requests")


def _print(data: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


main.add_command(dlq.dlq)

if __name__ == "__main__":
    sys.exit(main())
