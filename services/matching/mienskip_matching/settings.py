"""Matching's settings: the shared ones plus the solver's, all from ``MIENSKIP_*``."""

from __future__ import annotations

from dataclasses import dataclass

from mienskip_shared.settings import CommonSettings, vog_valid_years_by_region

from .domain.solver import SolverConfig


@dataclass(frozen=True)
class Settings(CommonSettings):
    road_factor: float = 1.3  # travel distance ~ great-circle distance x this
    solver_time_limit_s: float = 5.0
    # A weekly series keeps last time's volunteer unless a hard rule forbids it or another
    # request would go unmatched; off: they only count as ``continuity_m`` nearer.
    continuity_first: bool = True
    continuity_m: int = 1_000
    reserve_series: bool = True  # hold a held series' next occurrence for its volunteer
    batch_max_size: int = 64  # new requests solved together, at most this many ...
    batch_max_wait_ms: int = 150  # ... and none waiting longer than this

    def solver_config(self) -> SolverConfig:
        vog_years, vog_by_region = vog_valid_years_by_region(self.vog_valid_years)
        return SolverConfig(road_factor=self.road_factor, time_limit_s=self.solver_time_limit_s,
                            continuity_first=self.continuity_first, continuity_m=self.continuity_m,
                            reserve_series=self.reserve_series, vog_valid_years=vog_years,
                            vog_valid_years_by_region=tuple(sorted(vog_by_region.items())))
