"""The webhook signature a kamer verifies: HMAC-SHA256 over "{t}.{body}", replay window."""

import ast
import hashlib
import hmac
import sys
from pathlib import Path

import pytest

from mienskip_notify import webhooks
from mienskip_notify.webhooks import (
    BadSignature,
    MalformedSignature,
    StaleTimestamp,
    WebhookVerificationError,
    kamer_secret,
    signature_header,
    verify_webhook,
)

SECRET = kamer_secret("master key for tests", "grou")
BODY = '{"id":"k1","text":"Grou ❤️ hûn"}'.encode()
NOW = 1_764_582_000


def test_the_header_is_t_and_v1_hmac_sha256_over_timestamp_dot_body():
    header = signature_header(SECRET, BODY, now=NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"


def test_a_fresh_signature_verifies_and_returns_its_timestamp():
    header = signature_header(SECRET, BODY, now=NOW)
    assert verify_webhook(SECRET, header, BODY, now=NOW + 299) == NOW
    assert verify_webhook(SECRET, header, BODY.decode(), now=NOW) == NOW  # str body: its UTF-8 bytes


@pytest.mark.parametrize("delay", [301, 3600, -301])
def test_an_old_or_future_timestamp_is_a_replay_or_a_wrong_clock(delay):
    header = signature_header(SECRET, BODY, now=NOW)
    with pytest.raises(StaleTimestamp):
        verify_webhook(SECRET, header, BODY, now=NOW + delay)


def test_a_replay_with_a_new_timestamp_but_the_old_signature_fails():
    old = signature_header(SECRET, BODY, now=NOW)
    forged = old.replace(f"t={NOW}", f"t={NOW + 1000}")
    with pytest.raises(BadSignature):
        verify_webhook(SECRET, forged, BODY, now=NOW + 1000)


@pytest.mark.parametrize("body", [BODY + b" ", BODY.replace(b"k1", b"k2"), b""])
def test_a_changed_body_fails(body):
    with pytest.raises(BadSignature):
        verify_webhook(SECRET, signature_header(SECRET, BODY, now=NOW), body, now=NOW)


def test_another_kamers_secret_fails():
    header = signature_header(kamer_secret("master key for tests", "stiens"), BODY, now=NOW)
    with pytest.raises(BadSignature):
        verify_webhook(SECRET, header, BODY, now=NOW)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", f"t={NOW}", "v1=00", "nonsense", None])
def test_a_malformed_header_is_refused(header):
    with pytest.raises(MalformedSignature):
        verify_webhook(SECRET, header, BODY, now=NOW)


def test_every_refusal_is_one_catchable_error():
    assert issubclass(StaleTimestamp, WebhookVerificationError)
    assert issubclass(BadSignature, WebhookVerificationError)
    assert issubclass(MalformedSignature, ValueError)


def test_any_matching_v1_is_enough_while_a_secret_is_replaced():
    good = signature_header(SECRET, BODY, now=NOW).split(",v1=")[1]
    assert verify_webhook(SECRET, f"t={NOW},v1={'0' * 64},v1={good}", BODY, now=NOW) == NOW


def test_kamer_secrets_are_derived_stable_and_distinct():
    assert kamer_secret("m", "grou") == kamer_secret(b"m", "grou")
    assert kamer_secret("m", "grou") == hmac.new(b"m", b"grou", hashlib.sha256).hexdigest()
    assert kamer_secret("m", "grou") != kamer_secret("m", "stiens") != kamer_secret("n", "stiens")


def test_the_module_needs_only_the_standard_library():
    tree = ast.parse(Path(webhooks.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    assert imported - {"__future__"} <= sys.stdlib_module_names
