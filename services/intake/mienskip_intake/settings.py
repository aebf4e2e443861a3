"""Intake's settings: the common ``MIENSKIP_*`` ones plus its own."""

from __future__ import annotations

from dataclasses import dataclass

from mienskip_shared.settings import CommonSettings


@dataclass(frozen=True)
class Settings(CommonSettings):
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""
