"""Configuration of the long-retention store (padtec-exporter store)."""

from __future__ import annotations

import msgspec

from padtec_exporter.configfile import ConfigError, read_secret

DEFAULT_METRICS = [
    "padtec_power_dbm",
    "padtec_gain_db",
    "padtec_osnr_db",
    "padtec_temperature_celsius",
    "padtec_current_amperes",
    "padtec_voltage_volts",
    "padtec_power_watts",
    "padtec_ber_ratio",
    "padtec_measure_value",
    "padtec_card_up",
]


class RetentionConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    raw_days: int = 30
    hourly_days: int = 365
    daily_days: int = 1095
    alarms_days: int = 365


class StoreConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    listen_address: str = "0.0.0.0:9788"
    # The DSN carries a password: give it as a file or an environment variable.
    dsn_file: str | None = None
    dsn_env: str | None = "PADTEC_STORE_DSN"
    # "auto" uses TimescaleDB when the extension is available, plain PostgreSQL otherwise.
    backend: str = "auto"
    connections: int = 4
    # A write that takes longer is cancelled and answered 503, before Prometheus' own
    # remote_timeout (30 s by default) gives up on it.
    write_timeout_seconds: float = 20.0
    # Samples of these metrics go to `measurements`; padtec_card_info feeds `cards`.
    metrics: list[str] = msgspec.field(default_factory=lambda: list(DEFAULT_METRICS))
    retention: RetentionConfig = msgspec.field(default_factory=RetentionConfig)
    jobs_interval_seconds: float = 300.0
    # Alertmanager whose silences mark alarms ACKNOWLEDGED (optional).
    alertmanager_url: str | None = None
    silences_interval_seconds: float = 30.0

    def dsn(self) -> str:
        value = read_secret(value=None, file=self.dsn_file, env=self.dsn_env, what="store dsn")
        if not value:
            raise ConfigError("store: set dsn_file or dsn_env (PADTEC_STORE_DSN)")
        return value
