"""The exporter-toolkit web config format: every key upstream accepts, unknown keys refused.

```yaml
tls_server_config:
  cert_file: server.crt        # or cert: <PEM text>
  key_file: server.key         # or key: <PEM text>
  client_auth_type: RequireAndVerifyClientCert   # optional
  client_ca_file: ca.crt       # or client_ca: <PEM text>
  client_allowed_sans: [prometheus.example]      # optional, needs a required client cert
  min_version: TLS12           # TLS10 | TLS11 | TLS12 | TLS13
  max_version: TLS13
  cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]   # Go names, TLS <= 1.2
  curve_preferences: [X25519, CurveP256]
  prefer_server_cipher_suites: true
http_server_config:
  http2: true                  # accepted; aiohttp serves HTTP/1.1
  headers: {X-Frame-Options: deny}
rate_limit: {burst: 10, interval: 1s}
basic_auth_users:
  prometheus: $2b$12$...   # bcrypt hash
```
"""

from __future__ import annotations

import contextlib
import os
import re
import ssl
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec

from padtec_exporter.configfile import ConfigError, Strict, load_struct
from padtec_exporter.web.auth import bcrypt_cost

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "RequireClientCert",  # upstream keeps it as an alias of RequireAnyClientCert
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]
_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Go's tls.CipherSuites() (the ones exporter-toolkit accepts) → OpenSSL names. The TLS 1.3
# suites are accepted and, as in Go, not configurable (None).
CIPHERS: dict[str, str | None] = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": None,
    "TLS_AES_256_GCM_SHA384": None,
    "TLS_CHACHA20_POLY1305_SHA256": None,
}
CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1"}
CURVES["X25519"] = "X25519"
# The response headers exporter-toolkit lets a web config set, with their allowed values.
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class TlsServerConfig(Strict):
    cert_file: str | None = None
    key_file: str | None = None
    cert: str | None = None
    key: str | None = None
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    client_ca: str | None = None
    client_allowed_sans: list[str] | None = None
    min_version: TlsVersion = "TLS12"
    max_version: TlsVersion = "TLS13"
    cipher_suites: list[str] = msgspec.field(default_factory=list)
    curve_preferences: list[str] = msgspec.field(default_factory=list)
    prefer_server_cipher_suites: bool = True


class HttpServerConfig(Strict):
    http2: bool = True  # accepted for compatibility: aiohttp speaks HTTP/1.1
    headers: dict[str, str] = msgspec.field(default_factory=dict)


class RateLimitConfig(Strict):
    burst: int = 0
    interval: str = "0s"  # Go duration; 0 = no limit

    def interval_seconds(self) -> float:
        return parse_duration(self.interval)


class WebServerConfig(Strict):
    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = msgspec.field(default_factory=HttpServerConfig)
    rate_limit: RateLimitConfig = msgspec.field(default_factory=RateLimitConfig)
    basic_auth_users: dict[str, str] = msgspec.field(default_factory=dict)


def parse_duration(text: str) -> float:
    """A Go duration ("1s", "1m30s", "250ms") in seconds."""
    text = text.strip()
    if text == "0":
        return 0.0
    if not _DURATION.match(text):
        raise ValueError(f"not a duration: {text!r} (e.g. 1s, 500ms, 1m)")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))


def load_web_config(path: str | Path | None) -> WebServerConfig:
    """The file checked as exporter-toolkit does; a ConfigError names the key at fault."""
    if path is None:
        return WebServerConfig()
    config = load_struct(path, WebServerConfig)
    base = Path(path).resolve().parent
    if config.tls_server_config is not None:
        _check_tls(config.tls_server_config, base, path)
    for name, value in config.http_server_config.headers.items():
        if name not in HEADERS:
            raise ConfigError(f"{path}: key 'http_server_config.headers': {name!r} can not be set")
        allowed = HEADERS[name]
        if allowed and value not in allowed:
            raise ConfigError(
                f"{path}: key 'http_server_config.headers.{name}': expected one of {allowed}"
            )
    try:
        config.rate_limit.interval_seconds()
    except ValueError as exc:
        raise ConfigError(f"{path}: key 'rate_limit.interval': {exc}") from None
    for user, hashed in config.basic_auth_users.items():
        if bcrypt_cost(hashed.encode()) is None or len(hashed) != 60:
            raise ConfigError(
                f"{path}: key 'basic_auth_users.{user}': expected a bcrypt hash ($2b$...)"
            )
    ssl_context(config, str(path))  # certificates, ciphers and curves load, or fail now
    return config


def _check_tls(tls: TlsServerConfig, base: Path, source: str | Path) -> None:
    # Relative paths are relative to the web config file, as in exporter-toolkit.
    key = "tls_server_config"
    if tls.cert_file:
        tls.cert_file = str(_resolve(base, tls.cert_file, f"{key}.cert_file", source))
    if tls.key_file:
        tls.key_file = str(_resolve(base, tls.key_file, f"{key}.key_file", source))
    if tls.client_ca_file:
        tls.client_ca_file = str(
            _resolve(base, tls.client_ca_file, f"{key}.client_ca_file", source)
        )
    if not (tls.cert_file or tls.cert):
        raise ConfigError(f"{source}: key '{key}': missing one of cert or cert_file")
    if not (tls.key_file or tls.key):
        raise ConfigError(f"{source}: key '{key}': missing one of key or key_file")
    has_ca = bool(tls.client_ca_file or tls.client_ca)
    if has_ca and tls.client_auth_type == "NoClientCert":
        raise ConfigError(
            f"{source}: key '{key}.client_auth_type': a client CA is configured "
            "without a client auth type"
        )
    if not has_ca and tls.client_auth_type != "NoClientCert":
        # Python's ssl verifies every certificate it asks for: it needs the CA.
        raise ConfigError(
            f"{source}: key '{key}.client_ca_file': expected a CA file "
            f"with client_auth_type {tls.client_auth_type}"
        )
    if tls.client_allowed_sans is not None and tls.client_auth_type not in (
        "RequireAnyClientCert",
        "RequireClientCert",
        "RequireAndVerifyClientCert",
    ):
        raise ConfigError(
            f"{source}: key '{key}.client_allowed_sans': needs client_auth_type "
            "RequireAnyClientCert or RequireAndVerifyClientCert"
        )
    for cipher in tls.cipher_suites:
        if cipher not in CIPHERS:
            raise ConfigError(f"{source}: key '{key}.cipher_suites': unknown cipher: {cipher}")
    for curve in tls.curve_preferences:
        if curve not in CURVES:
            raise ConfigError(f"{source}: key '{key}.curve_preferences': unknown curve: {curve}")
    if _VERSIONS[tls.min_version] > _VERSIONS[tls.max_version]:
        raise ConfigError(f"{source}: key '{key}.min_version': above max_version")


def _resolve(base: Path, name: str, key: str, source: str | Path) -> Path:
    path = Path(name) if Path(name).is_absolute() else base / name
    if not path.is_file():
        raise ConfigError(f"{source}: key '{key}': file {path} does not exist")
    return path


def ssl_context(config: WebServerConfig, source: str = "web config") -> ssl.SSLContext | None:
    tls = config.tls_server_config
    if tls is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated; upstream accepts them
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = _VERSIONS[tls.min_version]
        ctx.maximum_version = _VERSIONS[tls.max_version]
        with _pem_file(tls.cert_file, tls.cert) as cert, _pem_file(tls.key_file, tls.key) as key:
            ctx.load_cert_chain(cert, key)
        if tls.client_ca_file:
            ctx.load_verify_locations(cafile=tls.client_ca_file)
        elif tls.client_ca:
            ctx.load_verify_locations(cadata=tls.client_ca)
        openssl = [CIPHERS[c] for c in tls.cipher_suites if CIPHERS.get(c)]
        if openssl:
            ctx.set_ciphers(":".join(c for c in openssl if c))
        if len(tls.curve_preferences) == 1:
            # Python's ssl sets one curve only; with several, OpenSSL's defaults (which
            # include all four) apply in OpenSSL's order.
            ctx.set_ecdh_curve(CURVES[tls.curve_preferences[0]])
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(
            f"{source}: tls_server_config: cannot load certificate, key or settings: {exc}"
        ) from exc
    if tls.prefer_server_cipher_suites:
        ctx.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    ctx.verify_mode = {
        "NoClientCert": ssl.CERT_NONE,
        "RequestClientCert": ssl.CERT_OPTIONAL,
        "RequireAnyClientCert": ssl.CERT_REQUIRED,
        "RequireClientCert": ssl.CERT_REQUIRED,
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }[tls.client_auth_type]
    return ctx


@contextlib.contextmanager
def _pem_file(path: str | None, text: str | None) -> Iterator[str]:
    """A path to the PEM: the file given, or inline text in a private temporary file."""
    if path:
        yield path
        return
    fd, name = tempfile.mkstemp(suffix=".pem")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text or "")
        yield name
    finally:
        os.unlink(name)


def peer_sans(peercert: object) -> set[str]:
    """Subject alternative names of a verified peer certificate (ssl's dict form)."""
    if not isinstance(peercert, dict):
        return set()
    return {str(value) for _kind, value in peercert.get("subjectAltName", ())}
