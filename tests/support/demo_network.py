"""The exposition of the default demo network (`padtec-exporter demo`: seed 42, 6 sites x 8
cards), as the exporter serves it: for tests that check documented examples against it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx2
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.config import config_from_data
from padtec_exporter.demo import DemoOptions
from padtec_exporter.exporter import Exporter
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.support.processes import free_port

Series = tuple[dict[str, str], float]


async def demo_exposition(faults: Sequence[dict[str, Any]] = ()) -> list[Series]:
    """Every sample of one scrape of the exporter polling the default demo network, after
    ``faults`` were switched on in the simulator (e.g. a card down)."""
    options = DemoOptions()
    handle = await start_simulator(
        SimulatorConfig(
            seed=options.seed, sites=options.sites, cards_per_site=options.cards_per_site
        ),
        f"127.0.0.1:{free_port()}",
    )
    listen = f"127.0.0.1:{free_port()}"
    tiers = {"interval_seconds": 1.0}
    exporter = Exporter(
        config_from_data(
            {
                "nms": [
                    {
                        "name": "demo",
                        "base_url": handle.url,
                        "auth": {"username": "admin", "password": "admin"},
                    }
                ],
                "collect": {t: tiers for t in ("inventory", "critical", "all_measures", "alarms")},
                "web": {"listen_address": listen},
            }
        )
    )
    control = handle.url.removesuffix("/nms-api") + "/control"
    try:
        async with httpx2.AsyncClient(timeout=10) as http:
            for fault in faults:
                (await http.post(f"{control}/faults", json=fault)).raise_for_status()
            await exporter.start()
            deadline = asyncio.get_running_loop().time() + 60
            while True:
                text = (await http.get(f"http://{listen}/metrics")).text
                samples = parse(text)
                names = {labels["__name__"] for labels, _ in samples}
                down = {
                    labels.get("card_uid")
                    for labels, v in samples
                    if v == 0 and labels["__name__"] == "padtec_card_up"
                }
                wanted = {"padtec_power_dbm", "padtec_osnr_db", "padtec_card_info"}
                if wanted <= names and {f.get("card_uid") for f in faults} <= down | {None}:
                    return samples
                assert asyncio.get_running_loop().time() < deadline, "no demo exposition"
                await asyncio.sleep(0.3)
    finally:
        await exporter.close()
        await handle.close()


def parse(text: str) -> list[Series]:
    return [
        ({"__name__": sample.name, **sample.labels}, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("padtec_")
    ]
