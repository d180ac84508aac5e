"""The exporter's HTTP endpoints. Handlers only read what the collector published."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from padtec_exporter import __version__
from padtec_exporter.expose.render import Exposition
from padtec_exporter.expose.status import NmsStatus, render_status

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class ReadyState:
    ready: bool
    detail: str


class ExporterHttp:
    def __init__(
        self,
        registry: CollectorRegistry,
        current: Callable[[], Exposition],
        readiness: Callable[[], ReadyState],
        reload: Callable[[], Awaitable[tuple[bool, str]]],
        telemetry_path: str = "/metrics",
        status: Callable[[], list[NmsStatus]] = list,
    ) -> None:
        self._registry = registry
        self._current = current
        self._readiness = readiness
        self._reload = reload
        self._telemetry_path = telemetry_path
        self._status = status

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self.landing)
        app.router.add_get(self._telemetry_path, self.metrics)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_post("/-/reload", self.reload)
        return app

    async def metrics(self, request: web.Request) -> web.Response:
        exposition = self._current()
        accept = request.headers.get("Accept", "")
        gzip_ok = "gzip" in request.headers.get("Accept-Encoding", "")
        # Prometheus asks for OpenMetrics first. The snapshot's gauge lines read the same in
        # both formats, so either way a scrape only appends the self-metrics to the snapshot
        # (already compressed when gzip is asked): never a 100 MB compression per scrape.
        if "application/openmetrics-text" in accept:
            own = openmetrics.generate_latest(self._registry)  # type: ignore[no-untyped-call]
            headers = {"Content-Type": openmetrics.CONTENT_TYPE_LATEST}
        else:
            own = generate_latest(self._registry)
            headers = {"Content-Type": TEXT_CONTENT_TYPE}
        if gzip_ok:
            body = exposition.gzipped.complete(own)
            headers["Content-Encoding"] = "gzip"
        else:
            body = exposition.plain(own)
        return web.Response(body=body, headers=headers)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        state = self._readiness()
        return web.Response(status=200 if state.ready else 503, text=state.detail + "\n")

    async def reload(self, request: web.Request) -> web.Response:
        ok, message = await self._reload()
        return web.Response(status=200 if ok else 400, text=message + "\n")

    async def landing(self, request: web.Request) -> web.Response:
        """The per-NMS status page (expose/status.py)."""
        page = render_status(
            __version__, self._readiness().detail, self._status(), self._telemetry_path
        )
        return web.Response(text=page, content_type="text/html")
