"""Two tiers sweeping one view: the full sweep must not overwrite fresher values."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CollectorRegistry

from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, config_from_data
from padtec_exporter.model import RowDecoder, UnitResolver
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.support.self_metrics import requests_sent


def collector(url: str, registry: CollectorRegistry) -> NmsCollector:
    nms = config_from_data(
        {
            "nms": [
                {
                    "name": "sim",
                    "base_url": url,
                    "auth": {"username": "admin", "password": "admin"},
                    "page_size": 5,
                    "max_concurrency": 1,  # one page at a time: the full sweep takes a while
                }
            ]
        }
    ).nms[0]
    client = NmsClient(nms, NmsMetrics(registry))
    decoder = RowDecoder(UnitResolver())
    return NmsCollector(
        "sim", client, decoder, CollectConfig(), CollectMetrics(registry), lambda data: None
    )


async def test_values_the_critical_tier_fetched_during_a_full_sweep_outlive_the_sweep() -> None:
    handle = await start_simulator(
        SimulatorConfig(
            sites=2, cards_per_site=4, latency_seconds=0.1, update_interval_seconds=3600
        ),
        "127.0.0.1:0",
    )
    registry = CollectorRegistry()
    exporter = collector(handle.url, registry)
    try:
        assert await exporter.run_job("inventory")
        assert await exporter.run_job("critical")
        before = dict(exporter.data.measures)
        full = asyncio.create_task(exporter.run_job("all_measures"))
        sent = requests_sent(registry)
        while requests_sent(registry) < sent + 3:  # the sweep's first pages are in
            await asyncio.sleep(0.02)
        handle.simulator.advance()  # the NMS refreshes its values mid-sweep
        assert await exporter.run_job("critical")
        fresh = {uid: exporter.data.measures[uid] for uid in before}
        assert not full.done()
        assert await full
        moved = [uid for uid in before if before[uid].value != fresh[uid].value]
        assert moved, "the refresh changed no critical value; the test shows nothing"
        # The sweep fetched the first pages before the refresh: its older values must not
        # replace what the critical tier fetched after it began.
        after = exporter.data.measures
        assert {uid: after[uid].value for uid in before} == {
            uid: m.value for uid, m in fresh.items()
        }
        assert len(after) > len(before)  # and the sweep itself was published
    finally:
        await exporter._client.close()
        await handle.close()


def row(uid: int, value: str) -> dict[str, object]:
    return {
        "measureUid": f"ROA1-HA-E29001-TR#374-{7000 + uid}-0",
        "cardUid": "ROA1-HA-E29001-TR#374",
        "cardFamily": "AMPLIFIER",
        "locationSite": "Site",
        "measureName": f"Measure {uid}",
        "measureGroup": "POWER",
        "measureValue": value,
        "measureKey": 7000 + uid,
        "measureSubKey": 0,
        "updatedAt": "2025-12-04 22:35:38",
    }


async def serve_rows(rows: list[dict[str, object]], cap: int) -> tuple[web.AppRunner, str]:
    """A minimal NMS whose measures/state serves ``rows``, never more than ``cap`` a page."""

    async def login(request: web.Request) -> web.Response:
        return web.json_response({"token": "Token t"})

    async def state(request: web.Request) -> web.Response:
        size = min(int(request.query["size"]), cap)
        start = int(request.query["page"]) * size
        return web.json_response(rows[start : start + size])

    async def count(request: web.Request) -> web.Response:
        return web.json_response(len(rows))

    app = web.Application()
    app.router.add_post("/nms-api/v1/admin/login", login)
    app.router.add_get("/nms-api/v1/measures/state", state)
    app.router.add_get("/nms-api/v1/measures/count", count)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/nms-api"


def duplicates(registry: CollectorRegistry) -> float:
    value = registry.get_sample_value(
        "padtec_rows_invalid_total", {"nms": "sim", "resource": "measures", "reason": "duplicate"}
    )
    return value or 0.0


async def test_a_row_served_twice_is_counted_once_and_the_later_row_wins() -> None:
    runner, url = await serve_rows([row(0, "1.000"), row(1, "2.000"), row(0, "3.000")], cap=5)
    registry = CollectorRegistry()
    exporter = collector(url, registry)
    try:
        assert await exporter.run_job("all_measures")
        values = sorted(m.value for m in exporter.data.measures.values())
        assert values == [2.0, 3.0]
        assert duplicates(registry) == 1
    finally:
        await exporter._client.close()
        await runner.cleanup()


async def test_pages_fetched_again_after_a_size_cap_are_not_duplicates() -> None:
    # Asked for 5 a page, the NMS serves 2: the client sees the cap and fetches the view again.
    runner, url = await serve_rows([row(i, f"{i}.000") for i in range(5)], cap=2)
    registry = CollectorRegistry()
    exporter = collector(url, registry)
    try:
        assert await exporter.run_job("all_measures")
        assert len(exporter.data.measures) == 5
        assert duplicates(registry) == 0
    finally:
        await exporter._client.close()
        await runner.cleanup()
