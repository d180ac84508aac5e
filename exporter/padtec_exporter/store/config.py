"""Configuration of the long-retention store (padtec-exporter store)."""

from __future__ import annotations

import msgspec

from padtec_exporter.configfile import ConfigError, Strict, read_secret
from padtec_exporter.model.families import STORED

# The families the catalogue marks as stored (model/families.py).
DEFAULT_METRICS = list(STORED)


class RetentionConfig(Strict):
    raw_days: int = 30
    hourly_days: int = 365
    daily_days: int = 1095
    alarms_days: int = 365


class LimitsConfig(Strict):
    """Bounds on what one request may cost (docs/store.md, "Limits")."""

    # Remote-write body as sent (snappy) and as declared once inflated: above → 413.
    max_request_bytes: int = 16 * 1024 * 1024
    max_decompressed_bytes: int = 32 * 1024 * 1024
    # PostgreSQL cannot index a value much over 2.7 KB: two label columns share an index, so
    # 1 KB each keeps every index row far below the limit. Longer → the series is dropped.
    max_label_name_bytes: int = 128
    max_label_value_bytes: int = 1024
    max_labels_per_series: int = 64
    # Remote-write requests handled at once; one more gets 503 + Retry-After.
    max_concurrent_writes: int = 8
    # Alertmanager webhook body; longer label values / annotations are cut (and counted).
    max_webhook_bytes: int = 8 * 1024 * 1024
    max_annotation_bytes: int = 16 * 1024
    # /readyz answers 503 after this many write requests in a row failed with a 5xx.
    unready_after_failures: int = 5


class StoreConfig(Strict):
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
    limits: LimitsConfig = msgspec.field(default_factory=LimitsConfig)

    def dsn(self) -> str:
        value = read_secret(value=None, file=self.dsn_file, env=self.dsn_env, what="store dsn")
        if not value:
            raise ConfigError("store: set dsn_file or dsn_env (PADTEC_STORE_DSN)")
        return value
