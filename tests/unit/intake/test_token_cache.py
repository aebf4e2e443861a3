"""API tokens remembered for a bounded time: a revoked token stops working within the bound."""

from __future__ import annotations

from mienskip_intake.domain.model import Principal, Role
from mienskip_intake.entrypoints.token_cache import MAX_ENTRIES, TokenCache

KAMER = Principal("t1", Role.KAMER, kamer_id="k1", region="leeuwarden")


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Tokens:
    """The database's answer, counted: a token that works until it is revoked."""

    def __init__(self):
        self.revoked = False
        self.lookups = 0

    def __call__(self):
        self.lookups += 1
        return None if self.revoked else KAMER


def test_a_token_is_looked_up_once_within_the_bound_and_a_revocation_counts_after_it():
    clock, tokens = Clock(), Tokens()
    cache = TokenCache(5.0, clock)
    assert [cache.principal("h1", tokens) for _ in range(3)] == [KAMER] * 3
    assert tokens.lookups == 1
    tokens.revoked = True
    clock.now += 4.9
    assert cache.principal("h1", tokens) == KAMER  # within the stated bound
    clock.now += 0.2
    assert cache.principal("h1", tokens) is None  # past it: revoked everywhere
    assert cache.principal("h1", tokens) is None and tokens.lookups == 3  # and not remembered


def test_unknown_tokens_are_never_remembered_and_zero_turns_the_cache_off():
    clock, tokens = Clock(), Tokens()
    tokens.revoked = True
    cache = TokenCache(5.0, clock)
    assert cache.principal("guess", tokens) is None
    tokens.revoked = False  # a token issued a moment later works at once
    assert cache.principal("guess", tokens) == KAMER
    off, counted = TokenCache(0, clock), Tokens()
    for _ in range(3):
        off.principal("h1", counted)
    assert counted.lookups == 3


def test_a_full_cache_is_emptied_not_grown():
    clock, tokens = Clock(), Tokens()
    cache = TokenCache(5.0, clock)
    for n in range(MAX_ENTRIES + 1):
        cache.principal(f"h{n}", tokens)
    assert len(cache._entries) == 1
