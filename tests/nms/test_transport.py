"""TLS verification and timeouts, against a real HTTP server on 127.0.0.1 (nothing faked)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trustme
from aiohttp import web
from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.configfile import ConfigError
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.nms.errors import TransportFailure
from tests.nms.helpers import Sleeps
from tests.support.processes import free_port


async def count(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Token t":
        return web.Response(status=401)
    if request.query.get("slow"):
        await asyncio.sleep(0.5)  # longer than the test's read timeout
    return web.json_response(42)


async def serve(ssl_context: ssl.SSLContext | None) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/nms-api/v1/measures/count", count)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}/nms-api"
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_nms(ca: trustme.CA) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    async for url in serve(context):
        yield url


@pytest.fixture
async def http_nms() -> AsyncIterator[str]:
    async for url in serve(None):
        yield url


def client(base_url: str, **nms: object) -> tuple[NmsClient, CollectorRegistry]:
    settings = {"name": "t", "base_url": base_url, "auth": {"token": "t"}, **nms}
    config = config_from_data({"nms": [settings]}).nms[0]
    registry = CollectorRegistry()
    return NmsClient(config, NmsMetrics(registry), sleep=Sleeps()), registry


async def test_tls_is_verified_by_default(https_nms: str) -> None:
    nms, registry = client(https_nms, retry={"attempts": 1})
    async with nms:
        with pytest.raises(TransportFailure, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            await nms.get_json("measures/count")
    failures = {"nms": "t", "endpoint": "measures/count", "reason": "connect"}
    assert registry.get_sample_value("padtec_nms_request_failures_total", failures) == 1.0


async def test_a_ca_file_makes_the_nms_certificate_trusted(
    https_nms: str, ca: trustme.CA, tmp_path: Path
) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    nms, _ = client(https_nms, tls={"ca_file": str(ca_file)})
    async with nms:
        assert await nms.get_json("measures/count") == 42


async def test_verification_can_be_turned_off(https_nms: str) -> None:
    nms, _ = client(https_nms, tls={"verify": False})
    async with nms:
        assert await nms.get_json("measures/count") == 42


def test_an_unreadable_ca_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ca_file"):
        client("https://127.0.0.1:1/nms-api", tls={"ca_file": str(tmp_path / "missing.pem")})


async def test_the_read_timeout_is_honoured(http_nms: str) -> None:
    nms, registry = client(http_nms, read_timeout_seconds=0.1, retry={"attempts": 2})
    async with nms:
        with pytest.raises(TransportFailure):
            await nms.get_json("measures/count", {"slow": "1"})
        assert await nms.get_json("measures/count") == 42
    failures = {"nms": "t", "endpoint": "measures/count", "reason": "timeout"}
    assert registry.get_sample_value("padtec_nms_request_failures_total", failures) == 2.0


async def test_a_closed_port_is_a_connect_failure() -> None:
    nms, registry = client(f"http://127.0.0.1:{free_port()}/nms-api", retry={"attempts": 1})
    async with nms:
        with pytest.raises(TransportFailure):
            await nms.get_json("measures/count")
    requests = {"nms": "t", "endpoint": "measures/count", "code": "error"}
    assert registry.get_sample_value("padtec_nms_requests_total", requests) == 1.0
