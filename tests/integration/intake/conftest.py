import pytest
from intake_support import TEST_SECRET, Kamer, issue_token
from pdok_support import serve_fake_pdok

from mienskip_intake.bootstrap import build
from mienskip_intake.domain.model import Role
from mienskip_intake.settings import Settings


@pytest.fixture
def intake(database_url, tmp_path):
    service = build(Settings.from_env({}, database_url=database_url, broker_url="memory://", data_dir=tmp_path,
                                      secret_key=TEST_SECRET,
                                      # revocation tests expect it at once; the cache's bound is tested on its own
                                      token_cache_s=0), with_workers=False)
    yield service
    service.dispose()


@pytest.fixture
def client(intake):
    return intake.wsgi_app.test_client()


@pytest.fixture
def kamer_a(intake):
    return Kamer(intake.engine, "Buurtkamer Bilgaard")


@pytest.fixture
def kamer_b(intake):
    return Kamer(intake.engine, "Dorpskamer De Wjukken", 53.1287, 5.7192)


@pytest.fixture
def coordinator(intake):
    _, token = issue_token(intake.engine, Role.COORDINATOR, region="leeuwarden")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator(intake):
    _, token = issue_token(intake.engine, Role.OPERATOR)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pdok():
    fake, stop = serve_fake_pdok()
    yield fake
    stop()


@pytest.fixture
def pdok_intake(database_url, tmp_path, pdok):
    """Intake behind the local stand-in for PDOK (the embedded centroids when it is away)."""
    service = build(Settings.from_env({}, database_url=database_url, broker_url="memory://", data_dir=tmp_path,
                                      secret_key=TEST_SECRET, geocoder="pdok", geocoder_url=pdok.url,
                                      geocoder_timeout_s=0.5), with_workers=False)
    yield service
    service.dispose()


def pytest_terminal_summary(terminalreporter):
    """How many hostile cases each fuzzing test tried, and how many got a 5xx (issue 18)."""
    from hostile import TALLY

    if TALLY:
        terminalreporter.write_sep("-", "hostile input")
        for test, (cases, errors) in TALLY.items():
            terminalreporter.write_line(f"{test}: {cases} cases, {errors} 5xx")
