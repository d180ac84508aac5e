"""Every NMS error line names the URL tried, the kind of failure and the likely fix (issue 12).

Real servers only: a closed port, a name that cannot resolve (``.invalid`` never does, RFC
6761, so no network is needed), a TLS server whose CA we do not trust, the simulator with a
wrong base path, a wrong password, a hung NMS.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import trustme
from aiohttp import web
from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import AuthError, NmsClient, NmsError, NmsMetrics, RequestFailed
from padtec_exporter.nms.errors import TransportFailure, transport_failure
from padtec_exporter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from tests.nms.helpers import Sleeps, rows_page
from tests.support.processes import free_port

PASSWORD = "wrong-but-secret-password"


def client(base_url: str, **nms: Any) -> tuple[NmsClient, CollectorRegistry]:
    settings: dict[str, Any] = {
        "name": "t",
        "base_url": base_url,
        "auth": {"username": "admin", "password": PASSWORD},
        "retry": {"attempts": 1},
        "connect_timeout_seconds": 5.0,
        "read_timeout_seconds": 5.0,
        **nms,
    }
    registry = CollectorRegistry()
    config = config_from_data({"nms": [settings]}).nms[0]
    return NmsClient(config, NmsMetrics(registry), sleep=Sleeps()), registry


async def failure(base_url: str, **nms: Any) -> tuple[NmsError, CollectorRegistry]:
    nms_client, registry = client(base_url, **nms)
    async with nms_client:
        with pytest.raises(NmsError) as caught:
            await nms_client.get_json("measures/count")
    assert PASSWORD not in str(caught.value)
    return caught.value, registry


def failures(registry: CollectorRegistry, endpoint: str, reason: str) -> float:
    labels = {"nms": "t", "endpoint": endpoint, "reason": reason}
    return registry.get_sample_value("padtec_nms_request_failures_total", labels) or 0.0


@pytest.fixture
async def simulator() -> AsyncIterator[SimulatorHandle]:
    handle = await start_simulator(SimulatorConfig(sites=1, cards_per_site=2), "127.0.0.1:0")
    try:
        yield handle
    finally:
        await handle.close()


async def test_a_closed_port_names_host_and_port_and_says_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="padtec_exporter.nms")
    port = free_port()  # bound and released: nothing listens
    error, _ = await failure(f"http://127.0.0.1:{port}/nms-api")
    line = str(error)
    assert isinstance(error, TransportFailure) and error.reason == "connect"
    assert line.startswith(f"POST http://127.0.0.1:{port}/nms-api/v1/admin/login: ")
    assert f"connection refused by 127.0.0.1:{port}" in line
    assert "likely fix: check the host and port of base_url" in line
    logged = [r for r in caplog.records if r.getMessage() == "nms request failed"]
    assert logged and f"127.0.0.1:{port}" in logged[-1].fields["error"]  # type: ignore[attr-defined]


async def test_a_name_that_does_not_resolve_says_dns() -> None:
    error, _ = await failure("http://nms.invalid:8181/nms-api", auth={"token": "Token t"})
    line = str(error)
    assert line.startswith("GET http://nms.invalid:8181/nms-api/v1/measures/count: DNS: ")
    assert "cannot resolve host 'nms.invalid'" in line and "check the host name" in line


async def test_an_untrusted_certificate_says_tls_and_names_ca_file() -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    runner = web.AppRunner(web.Application())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    try:
        error, _ = await failure(f"https://127.0.0.1:{port}/nms-api", auth={"token": "Token t"})
    finally:
        await runner.cleanup()
    line = str(error)
    assert f"TLS handshake with 127.0.0.1:{port} failed" in line
    assert "certificate" in line and "tls.ca_file" in line


async def test_a_wrong_base_path_is_a_wrong_url_not_a_wrong_password(
    simulator: SimulatorHandle,
) -> None:
    root = simulator.url.removesuffix("/nms-api")  # the API lives under /nms-api
    error, registry = await failure(root, auth={"username": "admin", "password": "admin"})
    line = str(error)
    assert isinstance(error, RequestFailed) and not isinstance(error, AuthError)
    assert line.startswith(f"POST {root}/v1/admin/login: login answered HTTP 404 Not Found")
    assert "base_url or api_prefix is wrong (not the password)" in line
    assert failures(registry, "admin/login", "http_4xx") == 1
    assert failures(registry, "admin/login", "auth") == 0


async def test_a_wrong_password_says_so_and_shows_no_secret(simulator: SimulatorHandle) -> None:
    error, registry = await failure(simulator.url)
    line = str(error)
    assert isinstance(error, AuthError)
    assert line.startswith(f"POST {simulator.url}/v1/admin/login: login answered HTTP 401")
    assert "bad credentials" in line  # the first bytes of the NMS's body
    assert "wrong username or password" in line
    assert failures(registry, "admin/login", "auth") == 1


async def test_a_404_on_a_data_endpoint_shows_status_body_and_fix(
    simulator: SimulatorHandle,
) -> None:
    nms_client, _ = client(simulator.url, auth={"username": "admin", "password": "admin"})
    async with nms_client:
        with pytest.raises(RequestFailed) as caught:
            await nms_client.get_json("measures/nothing-here")
    line = str(caught.value)
    assert line.startswith(f"GET {simulator.url}/v1/measures/nothing-here: HTTP 404 Not Found, ")
    assert "body '" in line and "api_prefix is wrong" in line


async def test_a_hung_nms_says_timeout_and_which_setting(simulator: SimulatorHandle) -> None:
    nms_client, _ = client(
        simulator.url, auth={"username": "admin", "password": "admin"}, read_timeout_seconds=0.5
    )
    async with nms_client:
        await nms_client.get_json("measures/count")  # logged in while the NMS still answers
        simulator.simulator.add_fault({"type": "outage", "mode": "hang"})
        with pytest.raises(TransportFailure) as caught:
            await nms_client.get_json("measures/count")
    line = str(caught.value)
    assert caught.value.reason == "timeout"
    assert line.startswith(f"GET {simulator.url}/v1/measures/count: timeout (ReadTimeout)")
    assert "read_timeout_seconds" in line


async def test_an_html_page_instead_of_json_points_at_base_url(simulator: SimulatorHandle) -> None:
    simulator.simulator.add_fault({"type": "malformed", "mode": "html"})
    nms_client, _ = client(simulator.url, auth={"username": "admin", "password": "admin"})
    page = {"page": "0", "size": "10"}
    async with nms_client:
        with pytest.raises(NmsError) as caught:
            await nms_client.fetch_all("measures/state", page, rows_page)
    line = str(caught.value)
    assert line.startswith(f"GET {simulator.url}/v1/measures/state?")
    assert "an HTML page, not JSON" in line and "point base_url at the Smart API" in line


def test_a_connect_timeout_names_the_connect_setting() -> None:
    # No route here times a connection out (loopback only): aiohttp's exception, as raised.
    timeout = aiohttp.ConnectionTimeoutError("Connection timeout to host http://10.0.0.9:8181")
    line = str(
        transport_failure("GET", "http://10.0.0.9:8181/nms-api/v1/x", timeout, timed_out=True)
    )
    assert "timeout: no TCP connection to 10.0.0.9:8181 within connect_timeout_seconds" in line
    assert "a firewall drops the packets or the host is down" in line
