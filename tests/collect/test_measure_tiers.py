"""Two tiers sweeping one view: the full sweep must not overwrite fresher values."""

from __future__ import annotations

import asyncio

from prometheus_client import CollectorRegistry

from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, config_from_data
from padtec_exporter.model import RowDecoder, UnitResolver
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.simulate import SimulatorConfig, start_simulator


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


def requests_sent(registry: CollectorRegistry) -> float:
    return sum(
        sample.value
        for family in registry.collect()
        if family.name == "padtec_nms_requests"
        for sample in family.samples
        if sample.name.endswith("_total")
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
