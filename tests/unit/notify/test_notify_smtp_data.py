"""The bytes notify writes after DATA are the ones smtplib writes (RFC 5321 4.5.2)."""

from __future__ import annotations

import smtplib

from hypothesis import given, settings
from hypothesis import strategies as st

from mienskip_notify.adapters.senders import _data_lines


def smtplib_data(data: bytes) -> bytes:
    """What ``smtplib.SMTP.data`` sends for ``data``: its own quoting, then CRLF and "."."""
    quoted = smtplib._quote_periods(data)
    return quoted + (b"" if quoted.endswith(b"\r\n") else b"\r\n") + b".\r\n"


def test_a_line_that_starts_with_a_dot_gets_a_second_one():
    assert _data_lines(b".top\r\nmid\r\n.\r\n..two\r\nend.\r\n") == b"..top\r\nmid\r\n..\r\n...two\r\nend.\r\n.\r\n"
    assert _data_lines(b"no end") == b"no end\r\n.\r\n"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b".", b"..", b"a", b"\r\n", b"\n", b"\r", b" .", b"\xc3\xa9"]), max_size=30))
def test_the_same_bytes_as_smtplib(parts):
    data = b"".join(parts)
    assert _data_lines(data) == smtplib_data(data)
