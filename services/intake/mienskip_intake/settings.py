"""Intake's settings: the common ``MIENSKIP_*`` ones plus its own."""

from __future__ import annotations

from dataclasses import dataclass

from mienskip_shared.settings import CommonSettings


@dataclass(frozen=True)
class Settings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
    # Per token, in flask-limiter's notation; one kamer's flood never slows another.
    rate_limit: str = "30 per second; 600 per minute"
    rate_limit_storage: str = "memory://"  # e.g. redis://127.0.0.1:6379 to share across workers
    # Per client address: API calls that fail authentication, and the sign-in forms' posts.
    unauthenticated_rate_limit: str = "120 per minute"
    sign_in_rate_limit: str = "30 per minute"
    sign_in_max_delay_s: float = 2.0  # a failed sign-in waits up to this long before answering
    retention_days: int = 365  # closed requests are anonymised after this many days
    # Where addresses are placed: "embedded" (postcode-area centres, no network) or "pdok"
    # (PDOK Locatieserver at geocoder_url, e.g. https://api.pdok.nl; embedded while it is away).
    geocoder: str = "embedded"
    geocoder_url: str = ""
    geocoder_timeout_s: float = 2.0
    # How long a web worker remembers an API token's owner: a revoked token stops working
    # everywhere within this many seconds (0: looked up on every call).
    token_cache_s: float = 5.0
    # The status consumer handles what arrived together in one transaction: at most this
    # many events, none waiting longer than this for company (under load batches fill at once).
    consumer_batch_max_size: int = 64
    consumer_batch_max_wait_ms: int = 20
    # "Waiting too long" (domain.waiting.Thresholds): the attention page and the weekly digest.
    waiting_proposal_hours: int = 24
    waiting_offer_hours: int = 48
    waiting_visit_days: int = 1
    waiting_follow_up_days: int = 14
