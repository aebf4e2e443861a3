"""Property-based API testing from our own /openapi.json (schemathesis): whatever a
client sends, intake answers without a 500 and as its schema documents. Positive mode
(bodies, queries and headers the schema allows) and negative mode (ones it forbids:
wrong types, missing or extra fields, bad query strings and headers), for every
operation, on SQLite and PostgreSQL. Each run prints how many cases it tried and how
many got a 5xx (issue 18)."""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hostile import TALLY, count
from intake_support import TEST_SECRET, Kamer
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mienskip_intake.bootstrap import build
from mienskip_intake.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def fuzzed(database_url, tmp_path):
    service = build(Settings.from_env({}, database_url=database_url, data_dir=tmp_path, secret_key=TEST_SECRET,
                                      rate_limit="100000 per second"), with_workers=False)
    kamer = Kamer(service.engine, "Buurtkamer Fuzz")
    yield service, kamer
    service.dispose()


def _operations(service):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", service.wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    return operations


def _settings(examples: int):
    return hypothesis.settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                               suppress_health_check=list(hypothesis.HealthCheck))


def _fuzz(operation, mode: GenerationMode, examples: int, check) -> None:
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @_settings(examples)
    def fuzz(case):
        check(case)

    fuzz()


def test_no_500_and_answers_match_the_schema(fuzzed, request):
    service, kamer = fuzzed
    name = f"schemathesis positive, {request.node.callspec.id}"

    def check(case):
        # A schema-valid body may still be refused for a rule the schema cannot say
        # (window end after start, an unknown id), so "accept valid data" is not checked.
        response = case.call_and_validate(headers=kamer.headers, excluded_checks=[positive_data_acceptance])
        count(name, response.status_code)

    for operation in _operations(service):
        _fuzz(operation, GenerationMode.POSITIVE, 25, check)
    print(f"{name}: {TALLY[name][0]} cases, {TALLY[name][1]} 5xx")


def test_negative_cases_are_4xx_json_errors_never_a_500(fuzzed, request):
    """Data the schema forbids: refused with a 4xx in API.md's JSON shape, never a 5xx."""
    service, kamer = fuzzed
    name = f"schemathesis negative, {request.node.callspec.id}"

    def check(case):
        response = case.call(headers={**(case.headers or {}), **kamer.headers})  # who asks stays valid
        count(name, response.status_code)
        where = f"{case.method} {case.formatted_path} {case.query} {str(case.body)[:200]}: {response.status_code}"
        assert response.status_code < 500, where + " " + response.text[:300]
        if response.status_code >= 400:
            error = response.json()
            assert response.headers["content-type"] == ["application/json"], where  # lowercase keys, list values
            assert error["code"] and error["message"], where

    for operation in _operations(service):
        _fuzz(operation, GenerationMode.NEGATIVE, 25, check)
    cases, errors = TALLY[name]
    print(f"{name}: {cases} hostile cases, {errors} 5xx")
    assert errors == 0
