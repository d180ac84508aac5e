"""In-process simulator + exporter over real loopback HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.config import ExporterConfig, config_from_data
from padtec_exporter.exporter import Exporter
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.support.processes import free_port


@dataclass
class Stack:
    nms_url: str
    control_url: str
    exporter: Exporter
    metrics_url: str
    http: httpx2.AsyncClient

    async def truth(self) -> dict[str, Any]:
        response = await self.http.get(f"{self.control_url}/truth")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def fault(self, fault: dict[str, Any]) -> str:
        response = await self.http.post(f"{self.control_url}/faults", json=fault)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def clear_faults(self) -> None:
        (await self.http.delete(f"{self.control_url}/faults")).raise_for_status()

    async def scrape(self) -> dict[str, list[tuple[dict[str, str], float]]]:
        response = await self.http.get(self.metrics_url)
        response.raise_for_status()
        return parse(response.text)

    async def wait_for(
        self,
        condition: Callable[[dict[str, list[tuple[dict[str, str], float]]]], bool],
        timeout: float = 20.0,
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        samples = await self.scrape()
        while not condition(samples):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"condition not met in {timeout}s")
            await asyncio.sleep(0.2)
            samples = await self.scrape()


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def value(
    samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str
) -> float | None:
    for got, v in samples.get(name, []):
        if all(got.get(k) == want for k, want in labels.items()):
            return v
    return None


def exporter_config(
    nms_url: str,
    listen: str,
    nms: dict[str, Any] | None = None,
    collect_extra: dict[str, Any] | None = None,
    **collect: Any,
) -> ExporterConfig:
    tiers = {"inventory": 2.0, "critical": 0.5, "all_measures": 1.0, "alarms": 0.5, **collect}
    settings: dict[str, Any] = {
        "name": "sim",
        "base_url": nms_url,
        "auth": {"username": "admin", "password": "admin"},
        "retry": {
            "attempts": 4,
            "initial_backoff_seconds": 0.05,
            "max_backoff_seconds": 0.2,
            "jitter_seconds": 0.02,
        },
        "breaker": {"failure_threshold": 3, "reset_timeout_seconds": 1.0},
        "read_timeout_seconds": 2.0,
        **(nms or {}),
    }
    settings = {key: value for key, value in settings.items() if value is not None}
    return config_from_data(
        {
            "nms": [settings],
            "collect": {
                "inventory": {"interval_seconds": tiers["inventory"]},
                "critical": {"interval_seconds": tiers["critical"]},
                "all_measures": {"interval_seconds": tiers["all_measures"]},
                "alarms": {"interval_seconds": tiers["alarms"]},
                **(collect_extra or {}),
            },
            "web": {"listen_address": listen},
        }
    )


@contextlib.asynccontextmanager
async def open_stack(
    simulator: SimulatorConfig | None = None,
    nms: dict[str, Any] | None = None,
    collect_extra: dict[str, Any] | None = None,
    **tiers: float,
) -> AsyncIterator[Stack]:
    """Simulator and exporter in this process over loopback HTTP; ``nms`` overrides the NMS
    settings (a None value removes the key: the exporter's default applies)."""
    sim_port, exporter_port = free_port(), free_port()
    handle = await start_simulator(
        simulator
        or SimulatorConfig(seed=7, sites=3, cards_per_site=5, update_interval_seconds=0.5),
        f"127.0.0.1:{sim_port}",
    )
    listen = f"127.0.0.1:{exporter_port}"
    exporter = Exporter(exporter_config(handle.url, listen, nms, collect_extra, **tiers))
    try:
        await exporter.start()
        async with httpx2.AsyncClient(timeout=5.0) as http:
            stack = Stack(
                nms_url=handle.url,
                control_url=handle.url.removesuffix("/nms-api") + "/control",
                exporter=exporter,
                metrics_url=f"http://{listen}/metrics",
                http=http,
            )
            ready_deadline = asyncio.get_running_loop().time() + 30
            while (await http.get(f"http://{listen}/readyz")).status_code != 200:
                assert asyncio.get_running_loop().time() < ready_deadline, "exporter never ready"
                await asyncio.sleep(0.1)
            yield stack
    finally:
        await exporter.close()
        await handle.close()


@pytest.fixture
async def stack() -> AsyncIterator[Stack]:
    async with open_stack() as opened:
        yield opened
