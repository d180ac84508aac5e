"""Every key exporter-toolkit accepts in a web config works here too; unknown keys and bad
values stop start-up with one line naming the key."""

from __future__ import annotations

import contextlib
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
import yaml
from aiohttp import web

from padtec_exporter.web import serve_app
from tests.security.conftest import PASSWORD, USER, Tls
from tests.support.processes import cli_command, free_port


@contextlib.asynccontextmanager
async def serving(web_config: Path) -> AsyncIterator[str]:
    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="hello\n")

    app = web.Application()
    app.router.add_get("/", hello)
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(app, listen, str(web_config))
    try:
        yield listen
    finally:
        await runner.cleanup()


def write(tls: Tls, name: str, doc: dict[str, object]) -> Path:
    path = tls.ca_file.parent / name  # beside the certificates: relative paths resolve
    path.write_text(yaml.safe_dump(doc))
    return path


def hashed_user(tls: Tls) -> dict[str, str]:
    return yaml.safe_load(tls.auth_only.read_text())["basic_auth_users"]  # type: ignore[no-any-return]


async def test_every_upstream_key_is_accepted_and_applied(tls: Tls) -> None:
    config = write(
        tls,
        "full.yml",
        {
            "tls_server_config": {
                "cert_file": "server.crt",
                "key_file": "server.key",
                "min_version": "TLS10",
                "max_version": "TLS13",
                "cipher_suites": [
                    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                    "TLS_AES_128_GCM_SHA256",
                ],
                "curve_preferences": ["X25519"],
                "prefer_server_cipher_suites": False,
            },
            "http_server_config": {
                "http2": True,
                "headers": {"X-Frame-Options": "deny", "X-Content-Type-Options": "nosniff"},
            },
            "rate_limit": {"burst": 100, "interval": "10ms"},
            "basic_auth_users": hashed_user(tls),
        },
    )
    async with serving(config) as listen:
        context = ssl.create_default_context(cafile=str(tls.ca_file))
        context.maximum_version = ssl.TLSVersion.TLSv1_2  # the configured TLS 1.2 cipher
        async with httpx2.AsyncClient(verify=context, auth=(USER, PASSWORD)) as client:
            response = await client.get(f"https://{listen}/")
        assert response.status_code == 200 and response.text == "hello\n"
        assert response.headers["X-Frame-Options"] == "deny"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_client_allowed_sans_and_inline_pem(tls: Tls) -> None:
    root = tls.ca_file.parent
    inline = {
        "cert": (root / "server.crt").read_text(),
        "key": (root / "server.key").read_text(),
        "client_ca": tls.ca_file.read_text(),
        "client_auth_type": "RequireAndVerifyClientCert",
    }
    client = ssl.create_default_context(cafile=str(tls.ca_file))
    client.load_cert_chain(str(tls.client_cert), str(tls.client_key))
    for sans, status in ((["prometheus.client"], 200), (["someone.else"], 403)):
        config = write(
            tls, "sans.yml", {"tls_server_config": {**inline, "client_allowed_sans": sans}}
        )
        async with serving(config) as listen, httpx2.AsyncClient(verify=client) as http:
            assert (await http.get(f"https://{listen}/")).status_code == status


async def test_rate_limit_answers_429(tls: Tls) -> None:
    config = write(tls, "rate.yml", {"rate_limit": {"burst": 2, "interval": "1m"}})
    async with serving(config) as listen, httpx2.AsyncClient() as client:
        codes = [(await client.get(f"http://{listen}/")).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            {
                "tls_server_config": {
                    "cert_file": "server.crt",
                    "key_file": "server.key",
                    "ciphers": [1],
                }
            },
            "unknown field `ciphers`",
        ),
        (
            {
                "tls_server_config": {
                    "cert_file": "server.crt",
                    "key_file": "server.key",
                    "cipher_suites": ["TLS_RSA_WITH_RC4_128_SHA"],
                }
            },
            "unknown cipher: TLS_RSA_WITH_RC4_128_SHA",
        ),
        (
            {
                "tls_server_config": {
                    "cert_file": "server.crt",
                    "key_file": "server.key",
                    "min_version": "SSL3",
                }
            },
            "tls_server_config.min_version",
        ),
        ({"http_server_config": {"headers": {"Server": "me"}}}, "'Server' can not be set"),
        ({"rate_limit": {"burst": 1, "interval": "soon"}}, "rate_limit.interval"),
        ({"basic_auth_users": {"u": "plaintext"}}, "basic_auth_users.u"),
    ],
)
def test_bad_keys_stop_start_up_with_one_line(
    tls: Tls, doc: dict[str, object], expected: str
) -> None:
    config = write(tls, "bad.yml", doc)
    result = subprocess.run(
        cli_command(
            "simulate", "--listen", f"127.0.0.1:{free_port()}", "--web.config.file", str(config)
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
