"""The exporter process: collectors per NMS, one renderer, the HTTP server, reloads.

Collectors publish new data; a single render task turns it into bytes off the event loop;
scrapes read the latest bytes. Nothing on the scrape path waits on the NMS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx2
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from padtec_exporter import __version__
from padtec_exporter.collect import CollectMetrics, NmsData
from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.config import ExporterConfig, NmsConfig, load_config
from padtec_exporter.configfile import ConfigError
from padtec_exporter.expose import ExporterHttp, Exposition, Renderer
from padtec_exporter.expose.render import EMPTY
from padtec_exporter.expose.server import ReadyState
from padtec_exporter.expose.status import NmsStatus, family_counts, without_userinfo
from padtec_exporter.model import RowDecoder, UnitResolver
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.nms.clock import ClockTracker
from padtec_exporter.registry import new_registry
from padtec_exporter.web import serve_app

log = logging.getLogger(__name__)

TransportFactory = Callable[[NmsConfig], httpx2.AsyncBaseTransport | None]


@dataclass
class _Running:
    config: NmsConfig
    collector: NmsCollector
    client: NmsClient
    task: asyncio.Task[None]


class ExporterMetrics:
    """The exporter's own gauges (the collectors and the client register theirs)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        build = Gauge(
            "padtec_exporter_build_info",
            "Build of the exporter; always 1.",
            ["version", "python_version"],
            registry=registry,
        )
        build.labels(__version__, platform.python_version()).set(1)
        self.reload_ok = Gauge(
            "padtec_exporter_config_last_reload_successful",
            "1 when the last configuration reload worked.",
            registry=registry,
        )
        self.reload_time = Gauge(
            "padtec_exporter_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration reload.",
            registry=registry,
        )
        self.series = Gauge(
            "padtec_snapshot_series", "Series in the latest rendered snapshot.", registry=registry
        )
        self.render_seconds = Gauge(
            "padtec_snapshot_render_duration_seconds",
            "Time the latest snapshot took to render.",
            registry=registry,
        )


class Exporter:
    def __init__(
        self,
        config: ExporterConfig,
        config_path: str | None = None,
        transport_factory: TransportFactory | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.registry = new_registry()
        self._nms_metrics = NmsMetrics(self.registry)
        self._collect_metrics = CollectMetrics(self.registry)
        self._metrics = ExporterMetrics(self.registry)
        self._metrics.reload_ok.set(1)
        self._metrics.reload_time.set(time.time())
        self._transport_factory = transport_factory or (lambda _config: None)
        self._renderer = Renderer()
        self._exposition: Exposition = EMPTY
        self._running: dict[str, _Running] = {}
        self._render_wanted = asyncio.Event()
        self._render_task: asyncio.Task[None] | None = None
        self._rendered_ready = False
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, listen: str | None = None) -> None:
        self._render_task = asyncio.create_task(self._render_loop(), name="render")
        for nms in self.config.nms:
            self._start_nms(nms)
        http = ExporterHttp(
            self.registry,
            lambda: self._exposition,
            self.readiness,
            self.reload,
            self.config.web.telemetry_path,
            self.status,
        )
        self._runner = await serve_app(
            http.app(), listen or self.config.web.listen_address, self.config.web.config_file
        )
        log.info(
            "exporter listening",
            extra={
                "fields": {
                    "address": listen or self.config.web.listen_address,
                    "nms": [n.name for n in self.config.nms],
                }
            },
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        for name in list(self._running):
            await self._stop_nms(name)
        if self._render_task is not None:
            self._render_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._render_task

    def _start_nms(self, nms: NmsConfig) -> None:
        client = NmsClient(nms, self._nms_metrics, transport=self._transport_factory(nms))
        decoder = RowDecoder(
            UnitResolver(self.config.units),
            timezone=nms.timezone,
            on_invalid=self._invalid_counter(nms.name),
            sentinels=frozenset(nms.sentinel_values),
        )
        collector = NmsCollector(
            nms.name,
            client,
            decoder,
            self.config.collect,
            self._collect_metrics,
            self._published,
            nms_clock=ClockTracker(nms.timezone),
        )
        task = asyncio.create_task(collector.run(), name=f"collect-{nms.name}")
        self._running[nms.name] = _Running(nms, collector, client, task)

    async def _stop_nms(self, name: str) -> None:
        running = self._running.pop(name)
        running.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running.task
        await running.client.close()

    def _invalid_counter(self, nms: str) -> Callable[[str, str], None]:
        counter = self._collect_metrics.rows_invalid

        def count(resource: str, reason: str) -> None:
            counter.labels(nms, resource, reason).inc()

        return count

    # -- rendering -------------------------------------------------------------------------
    def _published(self, _data: NmsData) -> None:
        self._render_wanted.set()

    async def _render_loop(self) -> None:
        while True:
            await self._render_wanted.wait()
            self._render_wanted.clear()
            datasets = [running.collector.data for running in self._running.values()]
            try:
                exposition = await asyncio.to_thread(self._renderer.render, datasets)
            except Exception:  # a bug here must not freeze /metrics on old data silently
                log.exception("rendering the exposition failed; serving the previous one")
                continue
            self._exposition = exposition
            self._metrics.series.set(exposition.series)
            self._metrics.render_seconds.set(exposition.render_seconds)
            for nms, count in exposition.duplicates.items():
                if count:
                    self._collect_metrics.rows_invalid.labels(
                        nms, "measures", "duplicate_series"
                    ).inc(count)
            self._rendered_ready = self._rendered_ready or any(d.inventory_ok for d in datasets)

    @property
    def exposition(self) -> Exposition:
        return self._exposition

    def readiness(self) -> ReadyState:
        parts = []
        for name, running in self._running.items():
            data = running.collector.data
            state = (
                f"{len(data.cards)} cards"
                if data.inventory_ok
                else running.collector.runlog.why_not_ready()
            )
            parts.append(f"{name}: {state}")
        ready = self._rendered_ready
        return ReadyState(
            ready=ready, detail=("ready; " if ready else "not ready; ") + ", ".join(parts)
        )

    def status(self) -> list[NmsStatus]:
        """What the landing page shows per NMS (expose/status.py)."""
        out = []
        now = time.time()
        for name, running in self._running.items():
            data = running.collector.data
            newest = max(
                (m.updated_at for m in data.measures.values() if m.updated_at is not None),
                default=None,
            )
            out.append(
                NmsStatus(
                    name=name,
                    base_url=without_userinfo(running.config.base_url),
                    cards=len(data.cards),
                    measures=len(data.measures),
                    alarms=len(data.alarms),
                    families=family_counts([m.family for m in data.measures.values()]),
                    newest_measure_offset_seconds=None if newest is None else newest - now,
                    jobs=dict(running.collector.runlog.jobs),
                )
            )
        return out

    # -- reload ----------------------------------------------------------------------------
    async def reload(self) -> tuple[bool, str]:
        """Load the config file again; a bad file is refused and the running config stays."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            self._metrics.reload_ok.set(0)
            log.error("configuration reload refused", extra={"fields": {"error": str(exc)}})
            return False, f"reload refused, old configuration kept: {exc}"
        if new.web != self.config.web:
            log.warning("web settings changed; they take effect after a restart")
        collect_changed = new.collect != self.config.collect or new.units != self.config.units
        wanted = {nms.name: nms for nms in new.nms}
        for name in list(self._running):
            if name not in wanted or collect_changed or self._running[name].config != wanted[name]:
                await self._stop_nms(name)
        self.config = new
        for name, nms in wanted.items():
            if name not in self._running:
                self._start_nms(nms)
        self._render_wanted.set()
        self._metrics.reload_ok.set(1)
        self._metrics.reload_time.set(time.time())
        log.info("configuration reloaded", extra={"fields": {"nms": list(wanted)}})
        return True, "configuration reloaded"


async def run_until_stopped(
    exporter: Exporter, listen: str | None = None, shutdown_timeout: float = 5.0
) -> None:
    """Serve until SIGTERM/SIGINT; SIGHUP reloads the configuration."""
    # Renders run in a worker thread; a short GIL switch interval keeps the event loop (and so
    # /metrics) answering within milliseconds while a render holds the interpreter.
    sys.setswitchinterval(0.0005)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads: set[asyncio.Task[tuple[bool, str]]] = set()

    def hup() -> None:
        task = loop.create_task(exporter.reload())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for sig, handler in (
        (signal.SIGTERM, stop.set),
        (signal.SIGINT, stop.set),
        (signal.SIGHUP, hup),
    ):
        loop.add_signal_handler(sig, handler)
    await exporter.start(listen)
    await stop.wait()
    log.info("shutting down")
    try:
        await asyncio.wait_for(exporter.close(), shutdown_timeout)
    except TimeoutError:
        log.warning("shutdown took longer than %.0fs; exiting anyway", shutdown_timeout)
