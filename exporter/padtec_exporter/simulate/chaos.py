"""What stands between a client and the NMS data: latency, token checks and transport faults.

One aiohttp middleware, in the order a request meets them: latency (plus a ``slow`` fault),
``outage`` (503, or no answer at all), ``rate_limit`` (429 + Retry-After), the token check, the
handler, and last ``malformed`` bodies on the state views.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from padtec_exporter.simulate import tokens
from padtec_exporter.simulate.faults import Malformed, Outage, RateLimit, Slow, TokenExpiry
from padtec_exporter.simulate.responses import JSON_TYPE, error_response, json_response
from padtec_exporter.simulate.simulator import Simulator

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Set by a state-view handler: which rows its body holds ("inventory", "measures", "alarms").
VIEW_KEY = web.RequestKey("padtec_view", str)
HANG_POLL_SECONDS = 0.05
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Error</title></head>"
    b"<body><h1>Whitelabel Error Page</h1><p>There was an unexpected error.</p></body></html>"
)


class Chaos:
    def __init__(self, sim: Simulator, api_base: str) -> None:
        self.sim = sim
        self.api_base = api_base.rstrip("/") + "/"
        self.login_path = f"{self.api_base}admin/login"
        # Probabilistic faults draw from a seeded stream: a run can be replayed.
        self._random = random.Random(sim.config.seed + 1)
        self.closing = asyncio.Event()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(self.api_base):
            return await handler(request)
        sim = self.sim
        sim.expire_faults()
        await self._delay()
        outage = sim.transport_fault(Outage)
        if outage is not None:
            if outage.mode == "hang" and await self._hang(request):
                return await self.middleware(request, handler)  # the outage ended meanwhile
            return error_response(request, 503, "NMS unavailable (simulated outage)")
        limited = self._rate_limited(request)
        if limited is not None:
            return limited
        if request.path != self.login_path and not self._authorized(request):
            return error_response(request, 401, "missing, invalid or expired token")
        response = await handler(request)
        view = request.get(VIEW_KEY)
        if view is not None and isinstance(response, web.Response):
            return self._maybe_malformed(response, view)
        return response

    async def _delay(self) -> None:
        delay = self.sim.config.latency_seconds
        slow = self.sim.transport_fault(Slow)
        if slow is not None:
            delay += slow.delay_seconds
        if delay > 0:
            await asyncio.sleep(delay)

    async def _hang(self, request: web.Request) -> bool:
        """Answer nothing while the outage lasts; True when it ended with the client still here."""
        while not self.closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return False  # aiohttp does not cancel a handler whose client went away
            self.sim.expire_faults()
            outage = self.sim.transport_fault(Outage)
            if outage is None or outage.mode != "hang":
                return True
            await asyncio.sleep(HANG_POLL_SECONDS)
        return False

    def _rate_limited(self, request: web.Request) -> web.Response | None:
        limit = self.sim.transport_fault(RateLimit)
        if limit is None or self._random.random() >= limit.probability:
            return None
        response = error_response(request, 429, "rate limit exceeded (simulated)")
        after = limit.retry_after_seconds
        # Whole seconds as HTTP wants; fractions are kept so tests can ask for short waits.
        response.headers["Retry-After"] = str(int(after)) if after.is_integer() else f"{after:g}"
        return response

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme != "Token" or not token.strip():
            return False  # the scheme is "Token", not "Bearer"
        token = token.strip()
        config = self.sim.config
        if token in config.static_tokens:
            issued: float | None = self.sim.started_at  # as if issued when the NMS started
        else:
            issued = tokens.issued_at(config.jwt_secret, token)
        if issued is None:
            return False
        expiry = self.sim.transport_fault(TokenExpiry)
        return expiry is None or self.sim.clock() - issued < expiry.every_seconds

    def _maybe_malformed(self, response: web.Response, view: str) -> web.Response:
        fault = self.sim.transport_fault(Malformed)
        if fault is None or self._random.random() >= fault.probability:
            return response
        body = response.body
        assert isinstance(body, bytes)
        if fault.mode == "truncated":
            return json_response(body[: max(1, len(body) // 2)])
        if fault.mode == "html":
            # A proxy or login page answering 200 instead of the API.
            return web.Response(
                body=HTML_ERROR_PAGE, headers={"Content-Type": "text/html;charset=UTF-8"}
            )
        rows = msgspec.json.decode(body)
        if fault.mode == "wrong_shape":
            # An object where the array belongs: a Spring Page, as a reconfigured API might send.
            return json_response({"content": rows, "totalElements": len(rows), "last": True})
        return json_response(spoil_rows(rows, view))


def spoil_rows(rows: list[Any], view: str) -> list[Any]:
    """Every third row broken in one of several ways; the page keeps its length (paging holds)."""
    spoilers = _SPOILERS[view]
    spoiled = list(rows)
    for n, i in enumerate(range(0, len(spoiled), 3)):
        spoiled[i] = spoilers[n % len(spoilers)](dict(spoiled[i]))
    return spoiled


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], Any]:
    def spoil(row: dict[str, Any]) -> Any:
        row[key] = value
        return row

    return spoil


def _drop(key: str) -> Callable[[dict[str, Any]], Any]:
    def spoil(row: dict[str, Any]) -> Any:
        row.pop(key, None)
        return row

    return spoil


def _not_an_object(row: dict[str, Any]) -> Any:
    return "garbage"


_SPOILERS: dict[str, list[Callable[[dict[str, Any]], Any]]] = {
    "measures": [
        _set("measureValue", "NaN"),
        _set("measureValue", ""),
        _set("measureValue", "1,5"),
        _drop("measureUid"),
        _set("measureValue", None),
        _set("cardSerial", "abc"),
        _set("measureUid", {"unexpected": "object"}),
        _not_an_object,
    ],
    "inventory": [
        _drop("cardUid"),
        _set("cardSerial", "abc"),
        _set("cardPart", None),
        _set("locationSite", ["not", "a", "string"]),
        _not_an_object,
    ],
    "alarms": [
        _drop("alarmOid"),
        _set("alarmOid", "x"),
        _set("alarmIsActive", "maybe"),
        _set("alarmSeverity", None),
        _not_an_object,
    ],
}
__all__ = ["JSON_TYPE", "VIEW_KEY", "Chaos", "spoil_rows"]
