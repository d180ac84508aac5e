"""The control API (docs/architecture.md "Simulator control API"): truth and faults.

No NMS token here; protect it with --web.config.file (basic auth guards /control).
"""

from __future__ import annotations

import logging

import msgspec
from aiohttp import web

from padtec_exporter.simulate.faults import FaultError
from padtec_exporter.simulate.responses import error_response, json_response
from padtec_exporter.simulate.simulator import Simulator

log = logging.getLogger(__name__)


class ControlApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/control/truth", self.truth)
        app.router.add_get("/control/faults", self.list_faults)
        app.router.add_post("/control/faults", self.add_fault)
        app.router.add_delete("/control/faults", self.clear_faults)
        app.router.add_delete("/control/faults/{fault_id}", self.clear_fault)
        app.router.add_get("/healthz", self.healthz)

    async def truth(self, request: web.Request) -> web.Response:
        return json_response(self.sim.truth())

    async def list_faults(self, request: web.Request) -> web.Response:
        self.sim.expire_faults()
        return json_response([fault.describe() for fault in self.sim.faults.values()])

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            raw = msgspec.json.decode(await request.read())
            fault = self.sim.add_fault(raw)
        except msgspec.DecodeError:
            return error_response(request, 400, "expected a JSON fault object")
        except FaultError as exc:
            return error_response(request, 400, str(exc))
        log.info("fault on", extra={"fields": fault.describe()})
        return json_response(fault.describe(), 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sim.clear_all()
        log.info("all faults cleared")
        return web.Response(status=204)

    async def clear_fault(self, request: web.Request) -> web.Response:
        fault_id = request.match_info["fault_id"]
        self.sim.expire_faults()
        if not self.sim.clear_fault(fault_id):
            return error_response(request, 404, f"no active fault {fault_id!r}")
        log.info("fault cleared", extra={"fields": {"id": fault_id}})
        return web.Response(status=204)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")
