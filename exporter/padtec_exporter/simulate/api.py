"""Handlers of the simulated NMS Smart API (../shared/padtec-api.md), under /nms-api/v1."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

from padtec_exporter.simulate import tokens
from padtec_exporter.simulate.alarms import SEVERITIES, kinds_for
from padtec_exporter.simulate.catalog import MODELS
from padtec_exporter.simulate.chaos import VIEW_KEY
from padtec_exporter.simulate.openapi import CAPABILITY_FILTERS, openapi_document
from padtec_exporter.simulate.responses import error_response, json_response
from padtec_exporter.simulate.simulator import Simulator
from padtec_exporter.simulate.views import (
    ALARM_FILTERS,
    INVENTORY_FILTERS,
    MEASURE_FILTERS,
    Views,
    json_array,
    matches,
    parse_filters,
)

_encode = msgspec.json.encode
# ASSUMED: the manual shows capability `reload` as ISO 8601 with an offset; the value is ours.
_CAPABILITY_RELOAD = "2025-12-04T20:30:01-03:00"


class LoginRequest(msgspec.Struct, kw_only=True):
    username: str
    password: str
    clientId: str | None = None  # the NMS's field name


class NmsApi:
    def __init__(self, sim: Simulator, views: Views) -> None:
        self.sim = sim
        self.views = views
        self._openapi = openapi_document(sim.config.api_prefix)

    def add_routes(self, app: web.Application) -> None:
        config = self.sim.config
        base = config.api_base()
        app.router.add_get(f"{config.base_path.rstrip('/')}/openapi.yaml", self.openapi)
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

    async def openapi(self, request: web.Request) -> web.Response:
        return web.Response(text=self._openapi, content_type="application/yaml")

    async def login(self, request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read(), type=LoginRequest)
        except msgspec.DecodeError:
            return error_response(
                request, 400, "expected JSON {username, password, clientId} (strings)"
            )
        users = {user.username: user.password for user in self.sim.config.users}
        known = users.get(body.username)
        if known is None or not tokens.same_secret(known, body.password):
            return error_response(request, 401, "bad credentials")
        subject = body.clientId or body.username
        token = tokens.issue(self.sim.config.jwt_secret, subject, self.sim.clock())
        return json_response({"token": f"Token {token}"})  # the NMS includes the scheme

    async def dataproviders(self, request: web.Request) -> web.Response:
        # ASSUMED shape (the manual lists the endpoint without showing its answer).
        providers = sorted({card.data_provider for card in self.sim.network.cards})
        return json_response([{"ip": ip, "name": f"NMS+ {ip}"} for ip in providers])

    # -- state views ------------------------------------------------------------------------
    async def inventory_state(self, request: web.Request) -> web.Response:
        request[VIEW_KEY] = "inventory"
        filters = parse_filters(request.query.items(), INVENTORY_FILTERS)
        return json_response(self.views.inventory_page(filters, self.views.paging(request.query)))

    async def measures_state(self, request: web.Request) -> web.Response:
        request[VIEW_KEY] = "measures"
        filters = parse_filters(request.query.items(), MEASURE_FILTERS)
        return json_response(self.views.measures_page(filters, self.views.paging(request.query)))

    async def alarm_state(self, request: web.Request) -> web.Response:
        request[VIEW_KEY] = "alarms"
        filters = parse_filters(request.query.items(), ALARM_FILTERS)
        return json_response(self.views.alarms_page(filters, self.views.paging(request.query)))

    # -- counts -----------------------------------------------------------------------------
    async def inventory_count(self, request: web.Request) -> web.Response:
        # Cards whose inventory row is delayed are not in the inventory yet.
        cards = self.sim.network.cards
        return json_response(sum(1 for card in cards if self.sim.in_inventory(card)))

    async def measures_count(self, request: web.Request) -> web.Response:
        return json_response(self.sim.network.measure_count())

    async def alarm_count(self, request: web.Request) -> web.Response:
        counts = dict.fromkeys(SEVERITIES, 0)
        active = self.sim.alarms.active()
        for alarm in active:
            counts[alarm.kind.severity] += 1
        return json_response({"TOTAL": len(active), **counts})

    # -- capabilities -----------------------------------------------------------------------
    async def inventory_capability(self, request: web.Request) -> web.Response:
        rows = [
            {
                "cardModel": model.name,
                "cardPart": model.part,
                "ports": list(model.ports),
                "crossconnection": list(model.crossconnection),
                "descriptor": f"{model.family} {model.name}",
                "reload": _CAPABILITY_RELOAD,
            }
            for model in MODELS.values()
        ]
        return self._capability(request, "inventory/capability", rows)

    async def measures_capability(self, request: web.Request) -> web.Response:
        seen: dict[str, dict[str, Any]] = {}
        updated = self.views.stamps.text(self.sim.started_at)
        for card in self.sim.network.cards:
            for kind in card.measures:
                uid = f"{card.model.name}-{kind.key}-{kind.subkey}"
                seen.setdefault(
                    uid,
                    {
                        "id": uid,
                        "cardModel": card.model.name,
                        "measureName": kind.name,
                        "measureResource": None,
                        "measureGroup": kind.group,
                        "port": kind.port,
                        "updatedAt": updated,
                    },
                )
        return self._capability(request, "measures/capability", list(seen.values()))

    async def alarm_capability(self, request: web.Request) -> web.Response:
        rows = [
            {
                "cardModel": model.name,
                # ASSUMED form of alarmUid (never shown): model, group and a number.
                "alarmUid": f"{model.name}-{kind.group}-{n}",
                "alarmName": kind.name,
                "alarmGroup": kind.group,
                "alarmResource": kind.resource,
                "port": kind.port,
            }
            for model in MODELS.values()
            for n, kind in enumerate(kinds_for(model.family))
        ]
        return self._capability(request, "alarm/capability", rows)

    def _capability(
        self, request: web.Request, path: str, rows: list[dict[str, Any]]
    ) -> web.Response:
        filters = parse_filters(request.query.items(), CAPABILITY_FILTERS[path])
        chosen = [_encode(row) for row in rows if matches(row, filters)]
        paging = self.views.paging(request.query)
        return json_response(json_array(chosen[paging.window()]))
