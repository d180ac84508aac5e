"""HTTP API of the simulator: the NMS Smart API under /nms-api/{prefix}, and /control."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from padtec_exporter.simulate import tokens
from padtec_exporter.simulate.faults import FaultError
from padtec_exporter.simulate.openapi import OPENAPI_YAML
from padtec_exporter.simulate.rows import (
    ALARM_FILTERS,
    INVENTORY_FILTERS,
    MEASURE_FILTERS,
    RowBuilder,
)
from padtec_exporter.simulate.simulator import Simulator

JSON_TYPE = "application/json;charset=UTF-8"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: Any, status: int = 200) -> web.Response:
    data = body if isinstance(body, bytes) else msgspec.json.encode(body)
    return web.Response(body=data, status=status, headers={"Content-Type": JSON_TYPE})


def _error(status: int, message: str) -> web.Response:
    return _json({"status": status, "error": message}, status)


class SimulatorApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.rows = RowBuilder(sim)
        self._random = random.Random(sim.config.seed + 1)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults_middleware])
        base = f"/nms-api/{self.sim.config.api_prefix.strip('/')}"
        app.router.add_get("/nms-api/openapi.yaml", self.openapi)
        app.router.add_post(f"{base}/admin/login", self.login)
        app.router.add_get(f"{base}/admin/dataproviders", self.dataproviders)
        app.router.add_get(f"{base}/inventory/state", self.inventory_state)
        app.router.add_get(f"{base}/inventory/count", self.inventory_count)
        app.router.add_get(f"{base}/inventory/capability", self.inventory_capability)
        app.router.add_get(f"{base}/measures/state", self.measures_state)
        app.router.add_get(f"{base}/measures/count", self.measures_count)
        app.router.add_get(f"{base}/measures/capability", self.measures_capability)
        app.router.add_get(f"{base}/alarm/state", self.alarm_state)
        app.router.add_get(f"{base}/alarm/count", self.alarm_count)
        app.router.add_get(f"{base}/alarm/capability", self.alarm_capability)
        app.router.add_get("/control/truth", self.truth)
        app.router.add_get("/control/faults", self.list_faults)
        app.router.add_post("/control/faults", self.add_fault)
        app.router.add_delete("/control/faults", self.clear_faults)
        app.router.add_delete("/control/faults/{fault_id}", self.clear_fault)
        app.router.add_get("/healthz", self.healthz)
        return app

    # -- faults that act on every API request ----------------------------------------------
    @web.middleware
    async def _faults_middleware(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        if not request.path.startswith("/nms-api/") or request.path.endswith("openapi.yaml"):
            return await handler(request)
        sim = self.sim
        delay = sim.config.latency_seconds
        slow = sim.active_fault("slow")
        if slow is not None:
            delay += slow.number("delay_seconds", 2.0)
        if delay > 0:
            await asyncio.sleep(delay)
        outage = sim.active_fault("outage")
        if outage is not None:
            if outage.params.get("mode") == "hang":
                await self._hang(request)
            return _error(503, "NMS unavailable (simulated outage)")
        limit = sim.active_fault("rate_limit")
        if limit is not None and self._random.random() < limit.number("probability", 1.0):
            after = limit.number("retry_after_seconds", 1.0)
            text = str(int(after)) if after.is_integer() else str(after)
            response = _error(429, "too many requests (simulated)")
            response.headers["Retry-After"] = text
            return response
        if not request.path.endswith("/admin/login") and not self._authorized(request):
            return _error(401, "invalid or missing token")
        return await handler(request)

    async def _hang(self, request: web.Request) -> None:
        # Until the client gives up: aiohttp does not cancel handlers on disconnect.
        while request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(0.2)
        raise asyncio.CancelledError

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Token "):
            return False  # the scheme is "Token", not "Bearer"
        token = header[len("Token ") :].strip()
        if token in self.sim.config.static_tokens:
            return True
        issued = tokens.issued_at(self.sim.config.jwt_secret, token)
        if issued is None:
            return False
        expiry = self.sim.active_fault("token_expiry")
        if expiry is not None:
            return self.sim.clock() - issued < expiry.number("every_seconds", 10.0)
        return True

    def _malformed(self, body: bytes, rows: int) -> web.Response | None:
        fault = self.sim.active_fault("malformed")
        if fault is None or self._random.random() >= fault.number("probability", 1.0):
            return None
        mode = fault.params.get("mode", "truncated")
        if mode == "truncated":
            return _json(body[: max(1, len(body) // 2)])
        if mode == "html":
            return web.Response(
                text="<html><body><h1>Internal error</h1></body></html>", content_type="text/html"
            )
        if mode == "wrong_shape":
            return _json({"content": "unexpected object", "rows": rows})
        # bad_rows: the page keeps its length (paging stays right), some rows are garbage.
        doc = json.loads(body)
        for i in range(0, len(doc), 3):
            doc[i] = [
                {"measureValue": "1,5,6"},
                "garbage",
                {"measureUid": {"x": 1}},
                {**doc[i], "measureValue": "NaN"},
            ][i % 4]
        return _json(json.dumps(doc).encode())

    # -- paging ----------------------------------------------------------------------------
    def _paging(self, request: web.Request) -> tuple[int, int]:
        config = self.sim.config
        try:
            page = int(request.query.get("page", "0"))
            size = int(request.query.get("size", str(config.default_page_size)))
        except ValueError as exc:
            raise web.HTTPBadRequest(text="page and size must be integers") from exc
        if page < 0 or size < 1:
            raise web.HTTPBadRequest(text="page must be >= 0 and size >= 1")
        return page, min(size, config.max_page_size)

    @staticmethod
    def _filters(request: web.Request, allowed: set[str]) -> dict[str, str]:
        return {k: v for k, v in request.query.items() if k in allowed}

    def _page_of(self, rows: list[dict[str, Any]], request: web.Request) -> web.Response:
        page, size = self._paging(request)
        body = msgspec.json.encode(rows[page * size : (page + 1) * size])
        return self._malformed(body, len(rows)) or _json(body)

    # -- NMS endpoints ---------------------------------------------------------------------
    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=OPENAPI_YAML, content_type="application/yaml")

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            username, password = str(body["username"]), str(body["password"])
            client_id = str(body.get("clientId", "unknown"))
        except (ValueError, KeyError, TypeError):
            return _error(400, "expected JSON with username, password and clientId")
        users = {u.username: u.password for u in self.sim.config.users}
        if users.get(username) != password:
            return _error(401, "bad credentials")
        token = tokens.issue(self.sim.config.jwt_secret, client_id, self.sim.clock())
        return _json({"token": f"Token {token}"})

    async def dataproviders(self, request: web.Request) -> web.Response:
        providers = sorted({c.data_provider for c in self.sim.cards})
        return _json([{"ip": ip, "name": f"NMS+ {ip}"} for ip in providers])

    async def inventory_state(self, request: web.Request) -> web.Response:
        return self._page_of(self.rows.cards(self._filters(request, INVENTORY_FILTERS)), request)

    async def inventory_count(self, request: web.Request) -> web.Response:
        return _json(len(self.sim.cards))

    async def inventory_capability(self, request: web.Request) -> web.Response:
        models = {c.model: c for c in self.sim.cards}
        rows = [
            {
                "cardModel": m,
                "cardPart": c.part,
                "ports": sorted({d.port for d in c.measures if d.port}),
                "crossconnection": ["IN Data->OUT Line"] if c.family == "TRANSPONDER" else [],
                "descriptor": f"{c.family.lower()} {m}",
                "reload": "2025-12-04T20:30:01-03:00",
            }
            for m, c in sorted(models.items())
        ]
        return self._page_of([r for r in rows if _capability_match(r, request)], request)

    async def measures_state(self, request: web.Request) -> web.Response:
        page, size = self._paging(request)
        filters = self._filters(request, MEASURE_FILTERS)
        body = self.rows.measures_page(filters, page, size)
        return self._malformed(body, size) or _json(body)

    async def measures_count(self, request: web.Request) -> web.Response:
        return _json(self.rows.count_measures())

    async def measures_capability(self, request: web.Request) -> web.Response:
        seen: dict[str, dict[str, Any]] = {}
        for card in self.sim.cards:
            for d in card.measures:
                key = f"{card.model}-{d.key}-{d.subkey}"
                seen.setdefault(
                    key,
                    {
                        "id": key,
                        "cardModel": card.model,
                        "measureName": d.name,
                        "measureResource": None,
                        "measureGroup": d.group,
                        "port": d.port,
                        "updatedAt": self.rows.stamp(self.sim.started_at),
                    },
                )
        rows = [r for r in seen.values() if _capability_match(r, request)]
        return self._page_of(rows, request)

    async def alarm_state(self, request: web.Request) -> web.Response:
        return self._page_of(self.rows.alarms(self._filters(request, ALARM_FILTERS)), request)

    async def alarm_count(self, request: web.Request) -> web.Response:
        counts = dict.fromkeys(("CRITICAL", "MAJOR", "MINOR", "WARNING", "UNKNOWN", "CLEARED"), 0)
        active = [a for a in self.sim.live_alarms() if a.active]
        for alarm in active:
            counts[alarm.severity] = counts.get(alarm.severity, 0) + 1
        return _json({"TOTAL": len(active), **counts})

    async def alarm_capability(self, request: web.Request) -> web.Response:
        seen = {
            (a.card.model, a.name): {
                "cardModel": a.card.model,
                "alarmUid": f"{a.group}",
                "alarmName": a.name,
                "alarmGroup": a.group,
                "alarmResource": a.resource,
                "port": a.port,
            }
            for a in self.sim.alarms
        }
        return self._page_of([r for r in seen.values() if _capability_match(r, request)], request)

    # -- control ---------------------------------------------------------------------------
    async def truth(self, request: web.Request) -> web.Response:
        return _json(self.sim.truth())

    async def list_faults(self, request: web.Request) -> web.Response:
        return _json([f.describe() for f in self.sim.faults.values()])

    async def add_fault(self, request: web.Request) -> web.Response:
        try:
            raw = await request.json()
            fault = self.sim.add_fault(raw)
        except json.JSONDecodeError:
            return _error(400, "expected a JSON fault object")
        except FaultError as exc:
            return _error(400, str(exc))
        self.rows.pages.clear()
        return _json(fault.describe(), 201)

    async def clear_faults(self, request: web.Request) -> web.Response:
        self.sim.clear_all()
        self.rows.pages.clear()
        return web.Response(status=204)

    async def clear_fault(self, request: web.Request) -> web.Response:
        if not self.sim.clear_fault(request.match_info["fault_id"]):
            return _error(404, "no such fault")
        self.rows.pages.clear()
        return web.Response(status=204)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")


def _capability_match(row: dict[str, Any], request: web.Request) -> bool:
    for key, wanted in request.query.items():
        if key in ("page", "size") or key not in row:
            continue
        if str(row[key]).lower() != wanted.lower():
            return False
    return True
