"""Run the simulator: HTTP server, the update ticker and an optional scenario."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from aiohttp import web

from padtec_exporter.simulate.api import SimulatorApi
from padtec_exporter.simulate.config import SimulatorConfig
from padtec_exporter.simulate.scenario import load_scenario, play
from padtec_exporter.simulate.simulator import Simulator
from padtec_exporter.web import parse_listen_address, serve_app


@dataclass
class SimulatorHandle:
    url: str  # NMS base URL, e.g. http://127.0.0.1:8181/nms-api
    simulator: Simulator
    runner: web.AppRunner
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.runner.cleanup()


async def _tick(sim: Simulator) -> None:
    while True:
        await asyncio.sleep(sim.config.update_interval_seconds)
        sim.advance()


async def start_simulator(
    config: SimulatorConfig, listen: str, web_config_file: str | None = None
) -> SimulatorHandle:
    steps = load_scenario(config.scenario) if config.scenario else []
    sim = Simulator(config)
    runner = await serve_app(SimulatorApi(sim).app(), listen, web_config_file)
    host, port = parse_listen_address(listen)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    handle = SimulatorHandle(url=f"http://{shown}:{port}/nms-api", simulator=sim, runner=runner)
    handle.tasks.append(asyncio.create_task(_tick(sim), name="simulator-tick"))
    if steps:
        handle.tasks.append(asyncio.create_task(play(sim, steps), name="simulator-scenario"))
    return handle
