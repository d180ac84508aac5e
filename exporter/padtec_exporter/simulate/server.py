"""Run the simulator in the caller's event loop: HTTP server, update ticker, scenario."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from padtec_exporter.simulate.api import NmsApi
from padtec_exporter.simulate.chaos import Chaos
from padtec_exporter.simulate.config import SimulatorConfig, checked
from padtec_exporter.simulate.control import ControlApi
from padtec_exporter.simulate.scenario import check_cards, load_scenario, play
from padtec_exporter.simulate.simulator import Simulator
from padtec_exporter.simulate.views import Views
from padtec_exporter.web import load_web_config, parse_listen_address, serve_app
from padtec_exporter.web.auth import BasicAuth

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimulatorHandle:
    url: str  # NMS base URL, e.g. http://127.0.0.1:8181/nms-api
    simulator: Simulator
    runner: web.AppRunner
    chaos: Chaos
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def control_url(self) -> str:
        return self.url.removesuffix(self.simulator.config.base_path.rstrip("/")) + "/control"

    async def close(self) -> None:
        self.chaos.closing.set()  # requests held by a "hang" outage give up
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.runner.cleanup()


async def _tick(sim: Simulator) -> None:
    """One update every update_interval_seconds, on a fixed grid (no drift under load)."""
    loop = asyncio.get_running_loop()
    interval = sim.config.update_interval_seconds
    next_at = loop.time() + interval
    while True:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        sim.advance()
        next_at = max(next_at + interval, loop.time())


def build_app(sim: Simulator, chaos: Chaos, basic_auth: BasicAuth | None) -> web.Application:
    app = web.Application(middlewares=[chaos.middleware])
    if basic_auth is not None:
        guard = GuardAllButNmsApi(basic_auth, sim.config.api_base())
        app.middlewares.insert(0, guard.middleware)
    NmsApi(sim, Views(sim)).add_routes(app)
    ControlApi(sim).add_routes(app)
    if sim.config.close_connections:
        app.on_response_prepare.append(_close_after_response)
    return app


async def _close_after_response(request: web.Request, response: web.StreamResponse) -> None:
    """close_connections: one request per connection, as HTTP/1.0 servers and proxies do."""
    response.force_close()  # aiohttp then sends "Connection: close" and closes after the body
    response.headers["Connection"] = "close"


class GuardAllButNmsApi:
    """Basic auth (--web.config.file) on every path except the NMS API, which carries its
    own "Authorization: Token" header: the two cannot share one header."""

    def __init__(self, auth: BasicAuth, api_base: str) -> None:
        self._auth = auth
        self._prefix = api_base.rstrip("/") + "/"

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(self._prefix):
            return await handler(request)
        return await self._auth.middleware(request, handler)


async def start_simulator(
    config: SimulatorConfig,
    listen: str,
    web_config_file: str | None = None,
    clock: Callable[[], float] | None = None,
) -> SimulatorHandle:
    """Serve a simulated NMS on ``listen``; the caller closes the handle.

    ``clock`` (default: wall clock) dates updates and alarms; a frozen one makes every answer
    reproducible (the golden exposition)."""
    config = checked(config)
    steps = load_scenario(config.scenario) if config.scenario else []
    sim = Simulator(config) if clock is None else Simulator(config, clock)
    if steps:
        check_cards(steps, sim, str(config.scenario))
    web_config = load_web_config(web_config_file)
    basic_auth = None
    if web_config.basic_auth_users:
        basic_auth = BasicAuth(web_config.basic_auth_users, realm="padtec-simulator")
        web_config = msgspec.structs.replace(web_config, basic_auth_users={})
    chaos = Chaos(sim, config.api_base())
    runner = await serve_app(build_app(sim, chaos, basic_auth), listen, web_config)
    host, _ = parse_listen_address(listen)
    port = runner.addresses[0][1]  # the bound port, also when asked for port 0
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    scheme = "https" if web_config.tls_server_config is not None else "http"
    url = f"{scheme}://{shown}:{port}{config.base_path.rstrip('/')}"
    handle = SimulatorHandle(url=url, simulator=sim, runner=runner, chaos=chaos)
    handle.tasks.append(asyncio.create_task(_tick(sim), name="simulator-updates"))
    if steps:
        handle.tasks.append(asyncio.create_task(play(sim, steps), name="simulator-scenario"))
    return handle
