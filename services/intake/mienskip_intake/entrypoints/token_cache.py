"""A short memory of which API token belongs to whom, so a kamer's system sending a
hundred requests a second does not cost a database round trip each for its token.

The bound is the promise: a token revoked (``mienskip token revoke``, from any process)
stops working in every web worker within ``ttl_s`` seconds (``MIENSKIP_TOKEN_CACHE_S``,
default 5; 0 turns the cache off). Only tokens that worked are remembered, by their hash
(never the token itself), so a new token works at once and a stranger's guesses fill
nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..domain.model import Principal

MAX_ENTRIES = 10_000  # far above the tokens of a region; a full cache is emptied, not grown


class TokenCache:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def principal(self, token_hash: str, look_up: Callable[[], Principal | None]) -> Principal | None:
        """The token's principal: remembered if looked up less than ``ttl_s`` ago, else ``look_up()``."""
        if self.ttl_s <= 0:
            return look_up()
        now = self._clock()
        with self._lock:
            remembered = self._entries.get(token_hash)
        if remembered is not None and remembered[0] > now:
            return remembered[1]
        principal = look_up()
        with self._lock:
            if principal is None:
                self._entries.pop(token_hash, None)
            else:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[token_hash] = (now + self.ttl_s, principal)
        return principal
