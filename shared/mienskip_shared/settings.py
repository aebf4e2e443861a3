"""Settings every service shares, read once from ``MIENSKIP_*`` environment variables.

Defaults are the embedded system: SQLite under ``var/`` and kombu's in-process
``memory://`` transport, so nothing has to be installed to run it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

from kombu import Connection

from .messaging.topology import DEFAULT_RETRY_DELAYS_MS

SQLITE_FILE = "mienskip.sqlite3"  # the embedded database, in the data directory


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class CommonSettings:
    data_dir: Path = Path("var")
    database_url: str = ""
    broker_url: str = "memory://"
    log_level: str = "INFO"
    log_json: bool = False
    prefetch_count: int = 8
    retry_delays_ms: tuple[int, ...] = DEFAULT_RETRY_DELAYS_MS
    secret_key: str = ""  # signs volunteer links; shared by intake and notify (see links.py)
    health_host: str = "127.0.0.1"
    health_port: int = 0  # workers serve /healthz, /readyz and /metrics here when set
    # How many years a VOG counts: "3" everywhere, or per region after the default,
    # "3,fryslan=5". Intake (whose VOG expires soon) and matching (the vog rule) read the same.
    vog_valid_years: str = "3"

    def __post_init__(self):
        vog_valid_years_by_region(self.vog_valid_years)  # a typo fails at start, not at the first match

    def vog_valid_years_in(self, region: str) -> int:
        default, by_region = vog_valid_years_by_region(self.vog_valid_years)
        return by_region.get(region, default)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides):
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f"MIENSKIP_{f.name.upper()}")
            if raw is None or overrides.get(f.name) is not None:
                continue
            values[f.name] = _convert(f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        if not settings.database_url:
            settings = replace(settings, database_url=f"sqlite:///{Path(settings.data_dir) / SQLITE_FILE}")
        return settings

    def broker_connection(self) -> Connection:
        """A new kombu connection (one per thread: they are not thread-safe)."""
        options = {"polling_interval": 0.05} if self.broker_url.startswith("memory") else {}
        return Connection(self.broker_url, transport_options=options, heartbeat=30 if "amqp" in self.broker_url else 0)


def vog_valid_years_by_region(text: str) -> tuple[int, dict[str, int]]:
    """``"3,fryslan=5"`` -> ``(3, {"fryslan": 5})``; a missing default is 3."""
    default, by_region = 3, {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        region, _, years = part.rpartition("=")
        value = int(years)
        if not 0 < value <= 50:
            raise ValueError(f"MIENSKIP_VOG_VALID_YEARS: {part!r} is not 1 to 50 years")
        if region:
            by_region[region.strip()] = value
        else:
            default = value
    return default, by_region


def _convert(type_name, raw: str):
    type_name = str(type_name)
    if "tuple" in type_name:
        return _ints(raw)
    if type_name.startswith("bool"):
        return _bool(raw)
    if type_name.startswith("int"):
        return int(raw)
    if type_name.startswith("float"):
        return float(raw)
    if "Path" in type_name:
        return Path(raw)
    return raw
