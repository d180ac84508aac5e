"""Basic auth under a flood of wrong passwords, user enumeration by timing, over-long passwords:
the exporter as a process behind a web config with a real-cost (10) bcrypt hash."""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

import bcrypt
import httpx2
import pytest
import yaml

from tests.support.processes import ManagedProcess, cli_command, free_port, wait_http
from tests.support.stack import exporter_config, running_simulator

USER, PASSWORD = "prometheus", "a correct password"
OTHER, OTHER_PASSWORD = "grafana", "another correct password"  # used by one test only


@dataclass
class Guarded:
    url: str
    process: ManagedProcess


@pytest.fixture(scope="module")
def guarded_exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    tmp = tmp_path_factory.mktemp("auth")
    web = tmp / "web.yml"
    users = {
        user: bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()
        for user, password in ((USER, PASSWORD), (OTHER, OTHER_PASSWORD))
    }
    web.write_text(yaml.safe_dump({"basic_auth_users": users}))
    with running_simulator(tmp, "--sites", "2", "--cards-per-site", "4") as sim:
        listen = f"127.0.0.1:{free_port()}"
        config = exporter_config({"sim": sim.url}, listen=listen)
        config["web"]["config_file"] = str(web)
        path = tmp / "exporter.yml"
        path.write_text(yaml.safe_dump(config))
        proc = ManagedProcess("exporter", cli_command("serve", "--config", str(path)), tmp)
        try:
            wait_http(f"http://{listen}/metrics", 60, proc.proc, ok_codes=(401,))
            yield Guarded(url=f"http://{listen}", process=proc)
        finally:
            proc.stop()


async def timed_get(client: httpx2.AsyncClient, url: str, auth: tuple[str, str]) -> float:
    started = time.perf_counter()
    response = await client.get(url, auth=auth)
    elapsed = time.perf_counter() - started
    assert response.status_code == (
        200 if auth in ((USER, PASSWORD), (OTHER, OTHER_PASSWORD)) else 401
    )
    return elapsed


async def test_wrong_passwords_do_not_slow_down_a_correct_scrape(guarded_exporter: Guarded) -> None:
    url = f"{guarded_exporter.url}/metrics"
    stop = time.monotonic() + 10
    attempts = [0]

    async def attacker() -> None:
        async with httpx2.AsyncClient(timeout=30) as client:
            while time.monotonic() < stop:
                await timed_get(client, url, (USER, secrets.token_hex(8)))
                attempts[0] += 1

    async def scraper() -> list[float]:
        seen = []
        async with httpx2.AsyncClient(timeout=30) as client:
            while time.monotonic() < stop:
                seen.append(await timed_get(client, url, (USER, PASSWORD)))
                await asyncio.sleep(0.2)
        return seen

    attack = asyncio.gather(*(attacker() for _ in range(8)))
    latencies = await scraper()
    await attack
    assert attempts[0] > 8  # the attack did run
    assert len(latencies) > 10
    print(
        f"correct scrapes: median {statistics.median(latencies) * 1000:.1f} ms, {attempts[0]} wrong"
    )
    assert statistics.median(latencies) < 0.2, latencies


async def test_unknown_and_known_users_take_as_long(guarded_exporter: Guarded) -> None:
    url = f"{guarded_exporter.url}/healthz"
    async with httpx2.AsyncClient(timeout=30) as client:
        known, unknown = [], []
        for _ in range(8):  # interleaved, so load on the machine hits both alike
            known.append(await timed_get(client, url, (USER, secrets.token_hex(8))))
            unknown.append(await timed_get(client, url, ("nobody", secrets.token_hex(8))))
    ratio = statistics.median(known) / statistics.median(unknown)
    k, u = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"wrong password: known user {k:.1f} ms, unknown user {u:.1f} ms")
    assert 0.5 < ratio < 2.0, (known, unknown)


async def test_an_over_long_password_is_a_401(guarded_exporter: Guarded) -> None:
    async with httpx2.AsyncClient(timeout=30) as client:
        for password in ("x" * 100, PASSWORD + "y" * 80):
            response = await client.get(f"{guarded_exporter.url}/metrics", auth=(USER, password))
            assert response.status_code == 401
        response = await client.get(f"{guarded_exporter.url}/metrics", auth=(USER, PASSWORD))
        assert response.status_code == 200
    assert guarded_exporter.process.alive()
    assert "Traceback" not in guarded_exporter.process.log()


async def test_a_flood_from_one_address_cannot_starve_a_new_good_password(
    guarded_exporter: Guarded,
) -> None:
    """80 connections from 127.0.0.2 keep sending wrong passwords: they get at most 4 bcrypt
    checks queued at a time, so a password never seen before, from 127.0.0.1, gets its turn."""
    url = f"{guarded_exporter.url}/metrics"
    stop = asyncio.Event()
    attacker_transport = httpx2.AsyncHTTPTransport(local_address="127.0.0.2")

    async def attacker(client: httpx2.AsyncClient) -> None:
        while not stop.is_set():
            response = await client.get(url, auth=(OTHER, secrets.token_hex(8)))
            assert response.status_code == 401

    async with httpx2.AsyncClient(
        transport=attacker_transport, timeout=60, limits=httpx2.Limits(max_connections=80)
    ) as flood:
        attackers = [asyncio.create_task(attacker(flood)) for _ in range(80)]
        await asyncio.sleep(2)
        async with httpx2.AsyncClient(timeout=60) as client:
            started = time.perf_counter()
            response = await client.get(url, auth=(OTHER, OTHER_PASSWORD))
            elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*attackers)
    print(f"new good password under a flood: {response.status_code} in {elapsed * 1000:.0f} ms")
    assert response.status_code == 200
