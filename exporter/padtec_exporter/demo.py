"""The embedded default: the NMS simulator and the exporter polling it, in one process."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from padtec_exporter.config import (
    AuthConfig,
    CollectConfig,
    ExporterConfig,
    NmsConfig,
    WebConfig,
    tier_config,
)
from padtec_exporter.exporter import Exporter, run_until_stopped
from padtec_exporter.simulate import SimulatorConfig, start_simulator

log = logging.getLogger(__name__)

# The simulator's built-in demo account; it guards nothing but simulated data.
DEMO_USER = "admin"
DEMO_PASSWORD = "admin"  # noqa: S105


# Faster than the defaults, so that the demo moves; filters are the tiers' own (tiers.py).
DEMO_INTERVALS = {"critical": 15.0, "all_measures": 60.0, "alarms": 15.0}


@dataclass(frozen=True)
class DemoOptions:
    listen: str = "0.0.0.0:9787"
    simulator_listen: str = "127.0.0.1:8181"
    sites: int = 6
    cards_per_site: int = 8
    seed: int = 42
    update_interval_seconds: float = 10.0
    web_config_file: str | None = None


def demo_exporter_config(nms_url: str, options: DemoOptions) -> ExporterConfig:
    return ExporterConfig(
        nms=[
            NmsConfig(
                name="demo",
                base_url=nms_url,
                auth=AuthConfig(username=DEMO_USER, password=DEMO_PASSWORD),
            )
        ],
        collect=CollectConfig(
            tiers={
                name: tier_config(name, interval_seconds=seconds)
                for name, seconds in DEMO_INTERVALS.items()
            }
        ),
        web=WebConfig(listen_address=options.listen, config_file=options.web_config_file),
    )


async def run_demo(options: DemoOptions) -> None:
    simulator_config = SimulatorConfig(
        seed=options.seed,
        sites=options.sites,
        cards_per_site=options.cards_per_site,
        update_interval_seconds=options.update_interval_seconds,
    )
    handle = await start_simulator(simulator_config, options.simulator_listen)
    try:
        exporter = Exporter(demo_exporter_config(handle.url, options))
        log.info(
            "demo: simulated NMS and exporter started",
            extra={
                "fields": {"simulator": handle.url, "metrics": f"http://{options.listen}/metrics"}
            },
        )
        await run_until_stopped(exporter)
    finally:
        await asyncio.wait_for(handle.close(), 5)
