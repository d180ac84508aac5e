"""Throwaway TLS material and web config files (exporter-toolkit format) for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
import trustme
import yaml

USER = "prometheus"
PASSWORD = "correct horse battery staple"


@dataclass
class Tls:
    ca_file: Path
    client_cert: Path
    client_key: Path
    tls_only: Path
    tls_auth: Path
    mtls: Path
    auth_only: Path
    password_file: Path


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    root = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("prometheus.client")
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    server.private_key_pem.write_to_path(str(root / "server.key"))
    server.cert_chain_pems[0].write_to_path(str(root / "server.crt"))
    client.private_key_pem.write_to_path(str(root / "client.key"))
    client.cert_chain_pems[0].write_to_path(str(root / "client.crt"))
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    tls_section = {"cert_file": "server.crt", "key_file": "server.key"}

    def write(name: str, doc: dict[str, object]) -> Path:
        path = root / name
        path.write_text(yaml.safe_dump(doc))
        return path

    (root / "password").write_text(PASSWORD)
    return Tls(
        ca_file=root / "ca.pem",
        client_cert=root / "client.crt",
        client_key=root / "client.key",
        tls_only=write("tls.yml", {"tls_server_config": tls_section}),
        tls_auth=write(
            "tls-auth.yml", {"tls_server_config": tls_section, "basic_auth_users": {USER: hashed}}
        ),
        mtls=write(
            "mtls.yml",
            {
                "tls_server_config": {
                    **tls_section,
                    "client_auth_type": "RequireAndVerifyClientCert",
                    "client_ca_file": "ca.pem",
                }
            },
        ),
        auth_only=write("auth.yml", {"basic_auth_users": {USER: hashed}}),
        password_file=root / "password",
    )
