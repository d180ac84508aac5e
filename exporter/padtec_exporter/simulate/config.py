"""Options of the NMS simulator (a YAML file via configfile.load_struct, or CLI flags)."""

from __future__ import annotations

from typing import Literal

import msgspec


class SimulatorUser(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    username: str
    password: str


class SimulatorConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    seed: int = 42
    sites: int = 6
    cards_per_site: int = 8
    # Generic measures with unknown keys added to every active card (benchmarks reach ~50).
    extra_measures_per_card: int = 0
    # The NMS+ refreshes its data every 30 s (manual); values and updatedAt move at this pace.
    update_interval_seconds: float = 30.0
    latency_seconds: float = 0.0
    api_prefix: str = "v1"
    api_build: Literal["2025-12", "2025-02"] = "2025-12"
    timezone: str = "UTC"
    default_page_size: int = 10
    max_page_size: int = 5000
    users: list[SimulatorUser] = msgspec.field(
        default_factory=lambda: [SimulatorUser(username="admin", password="admin")]  # noqa: S106
    )
    # Tokens accepted as they are (for exporter configs that use token_file).
    static_tokens: list[str] = msgspec.field(default_factory=list)
    jwt_secret: str = "padtec-simulator"  # noqa: S105 (signs simulated tokens only)
    scenario: str | None = None
