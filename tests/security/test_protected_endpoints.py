"""--web.config.file on every server: TLS, client certificates, basic auth (bcrypt)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from padtec_exporter.exporter import Exporter
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.exporter.conftest import exporter_config
from tests.security.conftest import PASSWORD, USER, Tls
from tests.support.processes import ManagedProcess, cli_command, free_port, wait_http
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.stack import demo_process


async def exporter_with(web_config: Path) -> AsyncIterator[str]:
    handle = await start_simulator(
        SimulatorConfig(sites=1, cards_per_site=4, update_interval_seconds=1),
        f"127.0.0.1:{free_port()}",
    )
    listen = f"127.0.0.1:{free_port()}"
    config = exporter_config(handle.url, listen)
    config.web.config_file = str(web_config)
    exporter = Exporter(config)
    await exporter.start()
    try:
        yield listen
    finally:
        await exporter.close()
        await handle.close()


@pytest.fixture
async def tls_exporter(tls: Tls) -> AsyncIterator[str]:
    async for listen in exporter_with(tls.tls_auth):
        yield listen


async def test_tls_scrape_with_basic_auth(tls_exporter: str, tls: Tls) -> None:
    async with httpx2.AsyncClient(
        verify=ssl.create_default_context(cafile=str(tls.ca_file)), auth=(USER, PASSWORD)
    ) as client:
        for _ in range(50):
            response = await client.get(f"https://{tls_exporter}/metrics")
            if "padtec_card_info{" in response.text:
                break
        assert response.status_code == 200 and "padtec_card_info{" in response.text


async def test_wrong_or_missing_password_gets_401(tls_exporter: str, tls: Tls) -> None:
    context = ssl.create_default_context(cafile=str(tls.ca_file))
    async with httpx2.AsyncClient(verify=context) as client:
        missing = await client.get(f"https://{tls_exporter}/metrics")
        wrong = await client.get(f"https://{tls_exporter}/metrics", auth=(USER, "nope"))
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Basic")


async def test_plain_http_is_refused_when_tls_is_on(tls_exporter: str) -> None:
    async with httpx2.AsyncClient() as client:
        with pytest.raises(httpx2.HTTPError):
            await client.get(f"http://{tls_exporter}/metrics", auth=(USER, PASSWORD))


async def test_client_certificate_required(tls: Tls) -> None:
    async for listen in exporter_with(tls.mtls):
        bare = ssl.create_default_context(cafile=str(tls.ca_file))
        async with httpx2.AsyncClient(verify=bare) as client:
            with pytest.raises(httpx2.HTTPError):
                await client.get(f"https://{listen}/healthz")
        with_cert = ssl.create_default_context(cafile=str(tls.ca_file))
        with_cert.load_cert_chain(str(tls.client_cert), str(tls.client_key))
        async with httpx2.AsyncClient(verify=with_cert) as client:
            assert (await client.get(f"https://{listen}/healthz")).status_code == 200


def test_real_prometheus_scrapes_through_tls_and_basic_auth(tls: Tls, tmp_path: Path) -> None:
    with demo_process(
        tmp_path, "--sites", "2", "--cards-per-site", "3", "--web.config.file", str(tls.tls_auth)
    ) as demo:
        wait_http(f"{demo.control_url}/truth")
        scrape = {
            "scheme": "https",
            "tls_config": {"ca_file": str(tls.ca_file)},
            "basic_auth": {"username": USER, "password_file": str(tls.password_file)},
        }
        with running_prometheus(
            tmp_path, prometheus_config([f"127.0.0.1:{demo.port}"], scrape_extra=scrape)
        ) as prom:
            prom.wait_for(
                "count(padtec_card_info)", lambda r: bool(r) and float(r[0]["value"][1]) == 6
            )
            assert prom.scalar('up{job="padtec"}') == 1.0
        assert demo.process.stop() == 0


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "--listen", "127.0.0.1:{port}"],
        ["notify-bridge", "--config", "{bridge}", "--listen", "127.0.0.1:{port}"],
    ],
)
def test_companion_servers_honour_the_web_config(
    command: list[str], tls: Tls, tmp_path: Path
) -> None:
    port = free_port()
    bridge = tmp_path / "bridge.yml"
    bridge.write_text("sms_recipients: {}\n")
    argv = [a.format(port=port, bridge=bridge) for a in command]
    proc = ManagedProcess(
        argv[0], cli_command(*argv, "--web.config.file", str(tls.auth_only)), tmp_path
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", ok_codes=(401,), proc=proc.proc)
        path = "/control/truth" if argv[0] == "simulate" else "/metrics"
        assert (
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "-u",
                    f"{USER}:{PASSWORD}",
                    f"http://127.0.0.1:{port}{path}",
                ],
                capture_output=True,
                text=True,
            ).stdout
            == "200"
        )
    finally:
        proc.stop()


def test_a_bad_web_config_stops_start_up_with_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "web.yml"
    bad.write_text("tls_server_config: {cert_file: missing.crt, key_file: missing.key}\n")
    config = tmp_path / "config.yml"
    config.write_text("nms: {auth: {token: x}}\n")
    result = subprocess.run(
        cli_command("serve", "--config", str(config), "--web.config.file", str(bad)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "tls_server_config.cert_file" in result.stderr and "does not exist" in result.stderr
