"""The exporter's configuration: one typed tree, loaded and validated in one place.

Everything the NMS API leaves uncertain (prefix, page size, time zone, tier filters, units) is a
key here rather than a constant in code. See README "Configuration" for the reference.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

from padtec_exporter import tiers
from padtec_exporter.configfile import ConfigError, Invalid, Strict, convert_struct, load_yaml
from padtec_exporter.model.units import UnitRule
from padtec_exporter.web.server import parse_listen_address

_LABEL_VALUE_SAFE = re.compile(r"^[A-Za-z0-9_.:-]+$")


class AuthConfig(Strict):
    """Either a ready token (value, file or env) or login credentials."""

    token: str | None = None
    token_file: str | None = None
    token_env: str | None = None
    username: str | None = None
    password: str | None = None
    password_file: str | None = None
    password_env: str | None = None
    client_id: str = "padtec-exporter"

    def has_token_source(self) -> bool:
        return bool(self.token or self.token_file or self.token_env)

    def has_login(self) -> bool:
        password = self.password or self.password_file or self.password_env
        return bool(self.username) and bool(password)

    def check(self) -> None:
        if not self.has_token_source() and not self.has_login():
            raise Invalid(
                "",
                "expected token, token_file or token_env, or username with password "
                "(password, password_file or password_env)",
            )

    def __repr__(self) -> str:  # never print secrets, even in a debugger or a traceback
        return (
            f"AuthConfig(token={'***' if self.token else None}, token_file={self.token_file!r}, "
            f"token_env={self.token_env!r}, username={self.username!r}, "
            f"password={'***' if self.password else None}, client_id={self.client_id!r})"
        )


class TlsClientConfig(Strict):
    verify: bool = True
    ca_file: str | None = None


class RetryConfig(Strict):
    attempts: int = 4
    initial_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    jitter_seconds: float = 0.5
    max_retry_after_seconds: float = 60.0

    def check(self) -> None:
        if self.attempts < 1:
            raise Invalid("attempts", "expected at least 1")


class BreakerConfig(Strict):
    failure_threshold: int = 5
    reset_timeout_seconds: float = 30.0

    def check(self) -> None:
        if self.failure_threshold < 1:
            raise Invalid("failure_threshold", "expected at least 1")


class NmsConfig(Strict):
    name: str = "default"
    base_url: str = "http://127.0.0.1:8181/nms-api"
    api_prefix: str = "v1"
    auth: AuthConfig = msgspec.field(default_factory=AuthConfig)
    tls: TlsClientConfig = msgspec.field(default_factory=TlsClientConfig)
    # Timestamps carry no zone (the NMS server's local time). Unset: the offset is worked out
    # from the HTTP Date header against the newest timestamps; set, this IANA zone wins.
    timezone: str | None = None
    connect_timeout_seconds: float = 5.0
    # A hung NMS must show within one critical interval (30 s): the first attempt that times
    # out sets padtec_nms_up 0 (pages take ~0.1 s; 10 s is slow, not merely busy).
    read_timeout_seconds: float = 10.0
    page_size: int = 500
    max_pages: int = 10_000
    max_response_bytes: int = 64 * 1024 * 1024
    max_concurrency: int = 4
    # Values the NMS uses to mean "no reading" (e.g. -99.0); dropped and counted as 'sentinel'.
    sentinel_values: list[float] = msgspec.field(default_factory=list)
    retry: RetryConfig = msgspec.field(default_factory=RetryConfig)
    breaker: BreakerConfig = msgspec.field(default_factory=BreakerConfig)

    def check(self) -> None:
        if not _LABEL_VALUE_SAFE.match(self.name):
            raise Invalid("name", "expected letters, digits, '_', '.', ':' or '-'")
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            raise Invalid("base_url", "expected an http:// or https:// URL")
        if self.timezone is not None:
            try:
                zoneinfo.ZoneInfo(self.timezone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise Invalid(
                    "timezone", "expected an IANA time zone such as 'America/Sao_Paulo'"
                ) from None
        integers = ("page_size", "max_pages", "max_response_bytes", "max_concurrency")
        _positive(self, integers, "expected a positive integer")
        seconds = ("connect_timeout_seconds", "read_timeout_seconds")
        _positive(self, seconds, "expected a positive number of seconds")
        for key, section in (("retry", self.retry), ("breaker", self.breaker), ("auth", self.auth)):
            try:
                section.check()
            except Invalid as exc:
                raise exc.under(key) from None


class TierConfig(Strict):
    interval_seconds: float
    enabled: bool = True
    # Each entry is one set of query filters; the tier fetches every set (in bulk pages).
    filters: list[dict[str, str]] = msgspec.field(default_factory=lambda: [{}])

    def check(self) -> None:
        _positive(self, ("interval_seconds",), "expected a positive number of seconds")


def tier_config(name: str, **settings: Any) -> TierConfig:
    """The tier's config: its defaults (tiers.py) with ``settings`` over them."""
    tier = tiers.BY_NAME[tiers.canonical(name)]
    defaults = {
        "interval_seconds": tier.interval_seconds,
        "filters": [dict(f) for f in tier.filters],
    }
    return TierConfig(**{**defaults, **settings})


def _all_tiers() -> dict[str, TierConfig]:
    return {name: tier_config(name) for name in tiers.NAMES}


class CollectConfig(Strict):
    # One entry per tier of tiers.py, by name; written in YAML as collect.<tier> (the loader
    # moves those keys here); tiers not given take their defaults.
    tiers: dict[str, TierConfig] = msgspec.field(default_factory=_all_tiers)
    # A collection still running after this long is cancelled and counted as failed.
    timeout_seconds: float = 600.0
    # A run that got no answer from the NMS for this long (well past read timeout x attempts)
    # is stalled: cancelled, counted failed, logged, and the HTTP client is rebuilt.
    stall_timeout_seconds: float = 120.0
    # Cross-check full sweeps against inventory/count, measures/count and alarm/count (TOTAL,
    # assumed to count active alarms): a short sweep is published as incomplete.
    check_counts: bool = True

    def __post_init__(self) -> None:
        self.tiers = {**_all_tiers(), **self.tiers}

    def check(self) -> None:
        seconds = ("timeout_seconds", "stall_timeout_seconds")
        _positive(self, seconds, "expected a positive number of seconds")
        for name, tier in self.tiers.items():
            try:
                tier.check()
            except Invalid as exc:
                raise exc.under(name) from None


class WebConfig(Strict):
    listen_address: str = "0.0.0.0:9787"
    telemetry_path: str = "/metrics"
    # Prometheus exporter-toolkit web config (TLS, basic auth); see docs/security.md.
    config_file: str | None = None

    def check(self) -> None:
        try:
            parse_listen_address(self.listen_address)
        except ConfigError:
            raise Invalid("listen_address", "expected HOST:PORT, e.g. '0.0.0.0:9787'") from None


class LogConfig(Strict):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class ExporterConfig(Strict):
    nms: list[NmsConfig] = msgspec.field(default_factory=lambda: [NmsConfig()])
    collect: CollectConfig = msgspec.field(default_factory=CollectConfig)
    # User rules are tried before the built-in table (model/units.py).
    units: list[UnitRule] = msgspec.field(default_factory=list)
    web: WebConfig = msgspec.field(default_factory=WebConfig)
    log: LogConfig = msgspec.field(default_factory=LogConfig)

    def check(self) -> None:
        if not self.nms:
            raise Invalid("nms", "expected at least one NMS")
        names: set[str] = set()
        for i, nms in enumerate(self.nms):
            if nms.name in names:
                raise Invalid(
                    f"nms[{i}].name", f"expected a unique name, '{nms.name}' is used twice"
                )
            names.add(nms.name)
        sections: list[tuple[str, NmsConfig | CollectConfig | UnitRule | WebConfig]] = [
            *((f"nms[{i}]", nms) for i, nms in enumerate(self.nms)),
            ("collect", self.collect),
            *((f"units[{i}]", rule) for i, rule in enumerate(self.units)),
            ("web", self.web),
        ]
        for key, section in sections:
            try:
                section.check()
            except Invalid as exc:
                raise exc.under(key) from None


def load_config(path: Path | str | None) -> ExporterConfig:
    """Load and validate the exporter config; ``None`` gives the defaults."""
    if path is None:
        data: Any = {}
        source = "<defaults>"
    else:
        source = str(path)
        data = load_yaml(path)
        if data == {}:
            raise ConfigError(
                f"{source}: the file is empty; an exporter config needs at least "
                "'nms:' with base_url and auth (example: deploy/exporter/config.yml)"
            )
    return config_from_data(data, source)


def config_from_data(data: Any, source: str = "<config>") -> ExporterConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level")
    if isinstance(data.get("nms"), dict):  # one NMS may be written without a list
        data = {**data, "nms": [data["nms"]]}
    data = _tiers_with_defaults(_filters_as_strings(data), source)
    config = convert_struct(data, ExporterConfig, source)
    validate(config, source)
    return config


def _tiers_with_defaults(data: dict[str, Any], source: str) -> dict[str, Any]:
    """``collect.<tier>`` keys (or an alias: ``normal``) become ``collect.tiers.<tier>``, each
    over its defaults from tiers.py: ``critical: {interval_seconds: 15}`` keeps the critical
    filters."""
    collect = data.get("collect")
    if not isinstance(collect, dict):
        return data
    rest = {k: v for k, v in collect.items() if tiers.canonical(k) not in tiers.BY_NAME}
    resolved: dict[str, Any] = {}
    for written, settings in collect.items():
        if written in rest:
            continue
        if not isinstance(settings, dict):
            raise ConfigError(f"{source}: key 'collect.{written}': expected a mapping")
        merged = {**msgspec.to_builtins(tier_config(written)), **settings}
        try:  # converted one by one, so that an error names the tier as written
            convert_struct(merged, TierConfig, source)
        except ConfigError as exc:
            problem = str(exc).removeprefix(f"{source}: ")
            where = f"collect.{written}"
            problem = (
                f"key '{where}.{problem[5:]}"
                if problem.startswith("key '")
                else f"key '{where}': {problem}"
            )
            raise ConfigError(f"{source}: {problem}") from None
        resolved[tiers.canonical(written)] = merged
    return {**data, "collect": {**rest, "tiers": resolved}} if resolved else data


def _filters_as_strings(data: dict[str, Any]) -> dict[str, Any]:
    """Tier filters are query parameters: ``alarmIsActive: true`` (YAML boolean) means the
    API's ``"true"``, as if quoted; numbers likewise."""
    collect = data.get("collect")
    if not isinstance(collect, dict):
        return data
    tiers = {}
    for name, tier in collect.items():
        if isinstance(tier, dict) and isinstance(tier.get("filters"), list):
            filters = [
                {k: _query_value(v) for k, v in f.items()} if isinstance(f, dict) else f
                for f in tier["filters"]
            ]
            tier = {**tier, "filters": filters}
        tiers[name] = tier
    return {**data, "collect": tiers}


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def secret_problems(config: ExporterConfig) -> list[str]:
    """What would stop the exporter from reading its NMS credentials at run time: a secret
    file that cannot be read, an environment variable that is not set (values never shown)."""
    problems = []
    for i, nms in enumerate(config.nms):
        auth = nms.auth
        for key in ("token_file", "password_file"):
            file = getattr(auth, key)
            if file:
                try:
                    with open(file, encoding="utf-8") as handle:
                        empty = not handle.read().strip()
                except OSError as exc:
                    problems.append(
                        f"key 'nms[{i}].auth.{key}': cannot read {file}: {exc.strerror or exc}"
                    )
                    continue
                if empty:
                    problems.append(f"key 'nms[{i}].auth.{key}': {file} is empty")
        for key in ("token_env", "password_env"):
            env = getattr(auth, key)
            if env and not os.environ.get(env):
                problems.append(f"key 'nms[{i}].auth.{key}': environment variable {env} is not set")
    return problems


def literal_secrets(config: ExporterConfig) -> list[str]:
    """Keys holding a secret written in the config itself (docs/security.md: files or env)."""
    found = []
    for i, nms in enumerate(config.nms):
        for key in ("token", "password"):
            if getattr(nms.auth, key):
                found.append(
                    f"key 'nms[{i}].auth.{key}': a literal secret; use {key}_file or {key}_env"
                )
    return found


def validate(config: ExporterConfig, source: str) -> None:
    """What the types cannot say, checked by each section (``check``); the error names the
    key path."""
    try:
        config.check()
    except Invalid as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _positive(section: object, keys: tuple[str, ...], expected: str) -> None:
    for key in keys:
        if getattr(section, key) <= 0:
            raise Invalid(key, expected)
