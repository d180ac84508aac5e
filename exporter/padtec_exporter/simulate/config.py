"""Options of the NMS simulator: a YAML file (configfile.load_struct) and/or CLI flags."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from padtec_exporter.configfile import ConfigError, Strict, convert_struct

NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]


class SimulatorUser(Strict):
    username: str
    password: str


def _default_users() -> list[SimulatorUser]:
    # The simulator's demo account: it guards simulated data only.
    return [SimulatorUser(username="admin", password="admin")]  # noqa: S106


class SimulatorConfig(Strict):
    seed: int = 42
    sites: NonNegativeInt = 6
    cards_per_site: NonNegativeInt = 8
    # Generic measures with unknown keys on every card that has measures (benchmarks: ~50).
    extra_measures_per_card: NonNegativeInt = 0
    # The NMS+ refreshes measures every 30 s (manual): values and updatedAt move at this pace.
    update_interval_seconds: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    # Added to every NMS API answer (the field saw 67-122 ms).
    latency_seconds: Annotated[float, msgspec.Meta(ge=0)] = 0.0
    base_path: str = "/nms-api"  # the Feb 2025 manual's build answered under /api
    api_prefix: str = "v1"
    api_build: Literal["2025-12", "2025-02"] = "2025-12"
    timezone: str = "UTC"  # of the zone-less timestamps
    default_page_size: PositiveInt = 10
    max_page_size: PositiveInt = 5000  # larger sizes are cut to this, silently (as Spring does)
    # ASSUMED: the manual's card sample has no cardIsActive, but it is a filter of
    # inventory/state; the 2025-02 build has no cardIsUp, so this is the only up/down signal.
    inventory_card_is_active: bool = True
    # SEEN: every row of a working amplifier in the Dec 2025 capture says cardIsUp false. The
    # default stays true while the alert rules still page on cardIsUp (the demo must look
    # healthy); false serves healthy cards as the capture shows them (docs/simulator.md).
    card_is_up_on_healthy: bool = False
    # Close the connection after every response (Connection: close), as HTTP/1.0 servers and
    # many proxies do; false keeps connections alive (aiohttp's default).
    close_connections: bool = False
    users: list[SimulatorUser] = msgspec.field(default_factory=_default_users)
    # Tokens accepted as they are (for exporter configs that use token_file).
    static_tokens: list[str] = msgspec.field(default_factory=list)
    jwt_secret: str = "padtec-simulator"  # noqa: S105 (signs simulated tokens only)
    scenario: str | None = None  # fault scenario YAML applied on schedule

    def api_base(self) -> str:
        """Path of the versioned API, e.g. /nms-api/v1."""
        return f"{self.base_path.rstrip('/')}/{self.api_prefix.strip('/')}"


def checked(config: SimulatorConfig, source: str = "simulator config") -> SimulatorConfig:
    """Re-validate (after CLI overrides) and check what types cannot: zone, paths, sizes."""
    config = convert_struct(msgspec.to_builtins(config), SimulatorConfig, source)
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"{source}: key 'timezone': unknown time zone {config.timezone!r}"
        ) from exc
    if not config.base_path.startswith("/"):
        raise ConfigError(f"{source}: key 'base_path': must start with '/'")
    if not config.api_prefix.strip("/"):
        raise ConfigError(f"{source}: key 'api_prefix': must not be empty")
    if config.default_page_size > config.max_page_size:
        raise ConfigError(f"{source}: key 'default_page_size': larger than max_page_size")
    if not config.users and not config.static_tokens:
        raise ConfigError(
            f"{source}: key 'users': no user and no static token: nobody could log in"
        )
    return config
