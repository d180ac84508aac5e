"""The exporter-toolkit web config format (a subset: what Prometheus exporters commonly use).

```yaml
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert   # optional
  client_ca_file: ca.crt                          # optional
  min_version: TLS12                              # optional
basic_auth_users:
  prometheus: $2b$12$...   # bcrypt hash
```
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Literal

import msgspec

from padtec_exporter.configfile import ConfigError, load_struct

ClientAuth = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]


class TlsServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    cert_file: str
    key_file: str
    client_auth_type: ClientAuth = "NoClientCert"
    client_ca_file: str | None = None
    min_version: Literal["TLS12", "TLS13"] = "TLS12"


class WebServerConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    tls_server_config: TlsServerConfig | None = None
    basic_auth_users: dict[str, str] = msgspec.field(default_factory=dict)
    # Accepted for compatibility with exporter-toolkit files; not acted upon.
    http_server_config: dict[str, object] = msgspec.field(default_factory=dict)


def load_web_config(path: str | Path | None) -> WebServerConfig:
    if path is None:
        return WebServerConfig()
    config = load_struct(path, WebServerConfig)
    base = Path(path).resolve().parent
    tls = config.tls_server_config
    if tls is not None:
        # Relative paths are relative to the web config file, as in exporter-toolkit.
        tls.cert_file = str(_resolve(base, tls.cert_file, "tls_server_config.cert_file", path))
        tls.key_file = str(_resolve(base, tls.key_file, "tls_server_config.key_file", path))
        if tls.client_ca_file:
            tls.client_ca_file = str(
                _resolve(base, tls.client_ca_file, "tls_server_config.client_ca_file", path)
            )
        elif tls.client_auth_type in ("VerifyClientCertIfGiven", "RequireAndVerifyClientCert"):
            raise ConfigError(
                f"{path}: key 'tls_server_config.client_ca_file': expected a CA file "
                f"with client_auth_type {tls.client_auth_type}"
            )
    for user, hashed in config.basic_auth_users.items():
        if not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise ConfigError(
                f"{path}: key 'basic_auth_users.{user}': expected a bcrypt hash ($2b$...)"
            )
    return config


def _resolve(base: Path, name: str, key: str, source: str | Path) -> Path:
    path = Path(name) if Path(name).is_absolute() else base / name
    if not path.is_file():
        raise ConfigError(f"{source}: key '{key}': file {path} does not exist")
    return path


def ssl_context(config: WebServerConfig) -> ssl.SSLContext | None:
    tls = config.tls_server_config
    if tls is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = (
        ssl.TLSVersion.TLSv1_3 if tls.min_version == "TLS13" else ssl.TLSVersion.TLSv1_2
    )
    try:
        ctx.load_cert_chain(tls.cert_file, tls.key_file)
        if tls.client_ca_file:
            ctx.load_verify_locations(cafile=tls.client_ca_file)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"tls_server_config: cannot load certificate or key: {exc}") from exc
    ctx.verify_mode = {
        "NoClientCert": ssl.CERT_NONE,
        "RequestClientCert": ssl.CERT_OPTIONAL,
        "RequireAnyClientCert": ssl.CERT_REQUIRED,
        "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
        "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
    }[tls.client_auth_type]
    return ctx
