from datetime import UTC, datetime, timedelta

import pytest

from mienskip_shared.links import InvalidLink, secret_key, sign_volunteer_link, verify_volunteer_link

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def test_a_signed_link_verifies_until_it_expires():
    token = sign_volunteer_link("s3cret", "a-1", "v-1", NOW + timedelta(days=3))
    link = verify_volunteer_link("s3cret", token, NOW)
    assert (link.assignment_id, link.volunteer_id) == ("a-1", "v-1")
    with pytest.raises(InvalidLink, match="expired"):
        verify_volunteer_link("s3cret", token, NOW + timedelta(days=3))


@pytest.mark.parametrize("tamper", [
    lambda t: t.replace(t.split(".")[1], "YS0y"),  # another assignment
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
    lambda t: "nonsense",
])
def test_a_tampered_link_is_refused(tamper):
    token = sign_volunteer_link("s3cret", "a-1", "v-1", NOW + timedelta(days=3))
    with pytest.raises(InvalidLink):
        verify_volunteer_link("s3cret", tamper(token), NOW)


def test_another_secret_does_not_verify():
    token = sign_volunteer_link("s3cret", "a-1", "v-1", NOW + timedelta(days=3))
    with pytest.raises(InvalidLink, match="signature"):
        verify_volunteer_link("other", token, NOW)


def test_the_embedded_secret_is_generated_once_and_private(tmp_path):
    first = secret_key("", tmp_path)
    assert first == secret_key("", tmp_path) and len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert secret_key("configured", tmp_path) == "configured"
