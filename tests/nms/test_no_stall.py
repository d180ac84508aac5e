"""No stall, ever: cancelled requests leak no pool slot, connection-closing servers keep working.

Issue 12's reproduction: against a server that closes the connection after each response,
with ``page_size: 10`` and speculative pages cancelled past the last one, httpx/httpcore 1.0.9
stopped after about 30 requests for good (encode/httpcore#1093). These run the client (now on
aiohttp) against real loopback servers and fail on a stall (every sweep is bounded by a
generous timeout) or on a connection left taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.nms.helpers import Sleeps, rows_page
from tests.support.evidence_nms import evidence_nms
from tests.support.processes import free_port
from tests.support.self_metrics import requests_sent

SWEEP_TIMEOUT = 30.0  # a sweep takes milliseconds; only a stall gets near this


def client(base_url: str, **nms: Any) -> tuple[NmsClient, CollectorRegistry]:
    settings = {"name": "t", "base_url": base_url, **nms}
    settings.setdefault("auth", {"token": "t"})
    config = config_from_data({"nms": [settings]}).nms[0]
    registry = CollectorRegistry()
    return NmsClient(config, NmsMetrics(registry), sleep=Sleeps()), registry


async def no_connection_taken(api: NmsClient) -> None:
    """Wait until the client has no exchange in flight, then check that the connector holds
    no connection and no waiter for one (private state: what a leak would leave behind)."""
    async with asyncio.timeout(SWEEP_TIMEOUT):
        while api._exchanges:
            await asyncio.sleep(0.01)
    connector = api._http.connector if api._http is not None else None
    assert connector is not None
    assert not connector._acquired  # type: ignore[attr-defined]
    assert not any(connector._waiters.values())  # type: ignore[attr-defined]


async def test_200_requests_in_a_row_against_an_http_1_0_server_closing_connections() -> None:
    # The evidence stand-in speaks HTTP/1.0 and closes every connection. Ten rows with
    # page_size 10: page 0 is full, pages 1-4 go out at once, page 1 is short and pages 2-4
    # are cancelled in flight: the stall, every sweep.
    with evidence_nms() as nms:
        api, registry = client(
            nms.url,
            auth={"username": nms.username, "password": nms.password},
            page_size=10,
            max_concurrency=4,
        )
        async with api:
            sweeps = 0
            while len(nms.requests) < 200:
                async with asyncio.timeout(SWEEP_TIMEOUT):
                    rows = await api.fetch_all("measures/state", {}, rows_page)
                assert len(rows) == 10
                sweeps += 1
                # Once the pages requested past the end are done, no connection may be left
                # taken: httpcore kept the request entry of a page cancelled in its close for
                # good (one more each few sweeps, until every slot was taken). Private state,
                # read only here: the leak itself.
                await no_connection_taken(api)
    assert sweeps >= 40
    assert registry.get_sample_value("padtec_nms_up", {"nms": "t"}) == 1.0


async def test_200_requests_in_a_row_against_the_simulator_closing_connections() -> None:
    handle = await start_simulator(
        SimulatorConfig(seed=3, sites=2, cards_per_site=3, close_connections=True),
        f"127.0.0.1:{free_port()}",
    )
    try:
        api, registry = client(
            handle.url, auth={"username": "admin", "password": "admin"}, page_size=10
        )
        async with api:
            expected = await api.get_json("measures/count")
            assert expected > 30  # several pages per sweep
            while requests_sent(registry) < 200:
                async with asyncio.timeout(SWEEP_TIMEOUT):
                    rows = await api.fetch_all("measures/state", {}, rows_page)
                assert len(rows) == expected
    finally:
        await handle.close()


class Barrier:
    """A loopback NMS whose ``measures/count`` answers only once ``width`` requests are in
    flight at the same time: proof that every pool slot is free. ``hold`` requests never
    answer until cancelled by the client. Every response closes its connection."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.waiting = 0
        self.arrived = asyncio.Condition()

    async def handle(self, request: web.Request) -> web.Response:
        if request.query.get("hold"):
            await asyncio.sleep(3600)
        async with self.arrived:
            self.waiting += 1
            self.arrived.notify_all()
            await self.arrived.wait_for(lambda: self.waiting >= self.width)
        response = web.json_response(42)
        response.force_close()
        return response


@pytest.fixture
async def barrier() -> AsyncIterator[tuple[str, Barrier]]:
    state = Barrier(width=2)
    app = web.Application()
    app.router.add_get("/nms-api/v1/measures/count", state.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/nms-api", state
    finally:
        await runner.cleanup()


async def test_requests_cancelled_in_flight_leak_no_pool_connection(
    barrier: tuple[str, Barrier],
) -> None:
    url, state = barrier
    api, _ = client(url, max_concurrency=2, retry={"attempts": 1})
    async with api:
        for round_ in range(25):
            # More requests than connections: some are on the wire, some wait for a slot.
            held = [
                asyncio.ensure_future(api.get_json("measures/count", {"hold": "1"}))
                for _ in range(6)
            ]
            await asyncio.sleep(0.01 * (round_ % 5))  # cancel at varying points
            for task in held:
                task.cancel()
            for task in held:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        # Both slots must still exist: two requests reach the server at the same time.
        async with asyncio.timeout(SWEEP_TIMEOUT):
            both = await asyncio.gather(
                api.get_json("measures/count"), api.get_json("measures/count")
            )
    assert list(both) == [42, 42]
    assert state.waiting == 2
