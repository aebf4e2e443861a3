"""Hostile JSON for property tests (issue 18: the tests that find the next ones).

What a stranger or a broken client sends: nesting past any parser's patience, integers
past Python's 4,300 digits, NaN and Infinity as bare words, lone surrogates, control
characters, text from every Unicode plane, dates at the ends of the calendar and offsets
that overflow on the way to UTC, the wrong type in every place, strings near 64 KiB,
and bytes that are not UTF-8 at all.

A body is drawn as a :class:`Body` (the bytes to send and what was done to them), made
by mutating a valid body of the endpoint at one place, or replaced whole. Raw JSON
tokens that ``json.dumps`` cannot write (``NaN`` is fine, a 5,000-digit integer is a
``ValueError`` for Python's own ``json`` to even parse) are kept as :class:`Raw`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Raw:
    """A JSON token written as it is."""

    text: str


@dataclass(frozen=True)
class Body:
    data: bytes
    what: str  # for the failure message: which place got which kind of value


def dump(value: Any, *, ascii_only: bool = True) -> str:
    """JSON text of ``value``, :class:`Raw` tokens as they are. ``ascii_only=False`` keeps
    characters as they are (a lone surrogate then makes the body invalid UTF-8)."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{dump(str(k), ascii_only=ascii_only)}:{dump(v, ascii_only=ascii_only)}"
                              for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dump(v, ascii_only=ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


# -- hostile values ---------------------------------------------------------------------------------

def nested(depth: int, kind: str) -> Raw:
    opener, closer = ("[", "]") if kind == "array" else ('{"a":', "}")
    return Raw(opener * depth + "1" + closer * depth)


deep_nesting = st.builds(nested, st.integers(min_value=33, max_value=20_000), st.sampled_from(["array", "object"]))
huge_integers = st.integers(min_value=4_301, max_value=12_000).map(lambda digits: Raw("9" * digits))
special_numbers = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999", "-0",
                                   "123456789012345678901234567890"]).map(Raw)
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
control_characters = st.characters(categories=["Cc"])
any_code_point = st.characters(min_codepoint=0, max_codepoint=0x10FFFF)  # every plane, surrogates and all
hostile_text = st.one_of(
    st.text(any_code_point, min_size=1, max_size=40),
    st.builds(lambda a, c, b: a + c + b, st.text(max_size=10), st.one_of(surrogates, control_characters),
              st.text(max_size=10)),
    st.sampled_from(["\x00", "\ud800", "a\udfffb", "\r\n", "\u2028", "\ufeff", "\ufffe", "\U0010ffff", "🐕" * 50,
                     "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "%00", "${jndi:x}"]),
)
extreme_dates = st.one_of(
    st.sampled_from(["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00", "0001-01-01T00:00:00+00:00",
                     "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59+14:00", "9999-12-01T10:00:00+01:00",
                     "2026-02-30T10:00:00+01:00", "2026-12-01T24:00:00+01:00", "2026-12-01T10:00:00+24:00",
                     "2026-12-01T10:00:00", "2026-12-01", "1970-01-01T00:00:00Z", "+002026-12-01T10:00:00Z",
                     "2026-12-01T10:00:00.123456789+01:00", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z"]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
wrong_types = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.just([]), st.just({}),
                        st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(),
                                                                               max_size=3))
near_limit_strings = st.integers(min_value=MAX_BODY - 2_000, max_value=MAX_BODY + 2_000).map(lambda n: "x" * n)

hostile_values = st.one_of(
    deep_nesting, huge_integers, special_numbers, hostile_text, extreme_dates, wrong_types, near_limit_strings,
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30), st.floats(allow_nan=True, allow_infinity=True),
)


# -- hostile bodies ---------------------------------------------------------------------------------

def _places(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a body a value could be swapped: each key and list item, nested too."""
    places = [path] if path else []
    if isinstance(value, dict):
        for key, inner in value.items():
            places += _places(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            places += _places(inner, (*path, index))
    return places


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def hostile_body(draw, valid: dict) -> Body:
    """One hostile body for an endpoint whose valid body is ``valid``."""
    how = draw(st.sampled_from(["replace", "replace", "replace", "add", "whole", "bytes"]))
    ascii_only = draw(st.booleans())
    if how == "whole":
        value = draw(hostile_values)
        return Body(_encode(dump(value, ascii_only=ascii_only)), f"whole body: {type(value).__name__}")
    if how == "bytes":
        data = draw(st.one_of(st.binary(max_size=200), st.just(b'{"name": "\xff\xfe"}'), st.just(b"\xef\xbb\xbf{}"),
                              st.just(b""), st.just(b"{" * 70_000)))
        return Body(data, "raw bytes")
    value = draw(hostile_values)
    if how == "add" or not valid:
        key = draw(st.one_of(hostile_text, st.sampled_from(["id", "status", "kamer_id", "created_at", "__proto__"])))
        return Body(_encode(dump({**valid, key: value}, ascii_only=ascii_only)), f"added {key!r}")
    path = draw(st.sampled_from(_places(valid)))
    return Body(_encode(dump(_replace(valid, path, value), ascii_only=ascii_only)),
                f"{'.'.join(map(str, path))} := {type(value).__name__}")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate written raw: not UTF-8 any more


# -- counting -----------------------------------------------------------------------------------------

TALLY: dict[str, list[int]] = {}  # a test's name -> [hostile cases tried, 5xx answers]


def count(test: str, status: int) -> None:
    """Count one hostile case and its answer; ``tests/integration/intake/conftest.py`` prints
    the tally at the end of the run (``N hostile cases, 0 5xx`` per test)."""
    tally = TALLY.setdefault(test, [0, 0])
    tally[0] += 1
    tally[1] += status >= 500
