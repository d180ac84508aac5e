"""The exporter process: the wiring root. One pipeline per NMS (collect/pipeline.py), one
render loop (expose/loop.py), the HTTP server, the reloadable configuration.

Collectors publish new data; the render loop turns it into bytes off the event loop; scrapes
read the latest bytes. Nothing on the scrape path waits on the NMS.
"""

from __future__ import annotations

import gc
import logging
import platform
import sys
import time

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge

from padtec_exporter import __version__
from padtec_exporter.collect import CollectMetrics
from padtec_exporter.collect.pipeline import NmsPipeline
from padtec_exporter.config import ExporterConfig, NmsConfig, load_config
from padtec_exporter.configfile import ReloadableConfig
from padtec_exporter.expose import ExporterHttp
from padtec_exporter.expose.loop import RenderLoop
from padtec_exporter.expose.server import ReadyState
from padtec_exporter.expose.status import NmsStatus, family_counts, without_userinfo
from padtec_exporter.nms import NmsMetrics
from padtec_exporter.registry import new_registry
from padtec_exporter.web import serve_app, serve_until_signalled

log = logging.getLogger(__name__)


def _build_info(registry: CollectorRegistry) -> None:
    build = Gauge(
        "padtec_exporter_build_info",
        "Build of the exporter; always 1.",
        ["version", "python_version"],
        registry=registry,
    )
    build.labels(__version__, platform.python_version()).set(1)


class Exporter:
    def __init__(self, config: ExporterConfig, config_path: str | None = None) -> None:
        self.registry = new_registry()
        self._nms_metrics = NmsMetrics(self.registry)
        self._collect_metrics = CollectMetrics(self.registry)
        _build_info(self.registry)
        self.reloadable = ReloadableConfig(
            config, config_path, load_config, self.registry, "padtec_exporter"
        )
        self._render = RenderLoop(
            self.registry,
            lambda: [pipeline.data for pipeline in self.pipelines.values()],
            self._collect_metrics.duplicate_series,
        )
        self.pipelines: dict[str, NmsPipeline] = {}
        self._runner: web.AppRunner | None = None

    @property
    def config(self) -> ExporterConfig:
        return self.reloadable.current

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self, listen: str | None = None) -> None:
        self._render.start()
        for nms in self.config.nms:
            self._start_nms(nms)
        web_config = self.config.web
        http = ExporterHttp(
            self.registry,
            lambda: self._render.exposition,
            self.readiness,
            self.reload,
            web_config.telemetry_path,
            self.status,
        )
        address = listen or web_config.listen_address
        self._runner = await serve_app(http.app(), address, web_config.config_file)
        log.info(
            "exporter listening",
            extra={"fields": {"address": address, "nms": list(self.pipelines)}},
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        for name in list(self.pipelines):
            await self.pipelines.pop(name).stop()
        await self._render.close()

    def _start_nms(self, nms: NmsConfig) -> None:
        pipeline = NmsPipeline(
            nms,
            self.config.collect,
            self.config.units,
            self._nms_metrics,
            self._collect_metrics,
            self._render.want,
        )
        pipeline.start()
        self.pipelines[nms.name] = pipeline

    # -- what the HTTP server shows --------------------------------------------------------
    def readiness(self) -> ReadyState:
        parts = []
        for name, pipeline in self.pipelines.items():
            data = pipeline.data
            state = (
                f"{len(data.cards)} cards"
                if data.inventory_ok
                else pipeline.collector.runlog.why_not_ready()
            )
            parts.append(f"{name}: {state}")
        ready = self._render.ready
        return ReadyState(
            ready=ready, detail=("ready; " if ready else "not ready; ") + ", ".join(parts)
        )

    def status(self) -> list[NmsStatus]:
        """What the landing page shows per NMS (expose/status.py)."""
        out = []
        now = time.time()
        for name, pipeline in self.pipelines.items():
            data = pipeline.data
            newest = max(
                (m.updated_at for m in data.measures.values() if m.updated_at is not None),
                default=None,
            )
            out.append(
                NmsStatus(
                    name=name,
                    base_url=without_userinfo(pipeline.config.base_url),
                    cards=len(data.cards),
                    measures=len(data.measures),
                    alarms=len(data.alarms),
                    families=family_counts([m.family for m in data.measures.values()]),
                    newest_measure_offset_seconds=None if newest is None else newest - now,
                    jobs=dict(pipeline.collector.runlog.jobs),
                )
            )
        return out

    # -- reload ----------------------------------------------------------------------------
    async def reload(self) -> tuple[bool, str]:
        """Load the config file again; a bad file is refused and the running config stays."""
        return await self.reloadable.reload(self._apply)

    async def _apply(self, old: ExporterConfig, new: ExporterConfig) -> None:
        """Restart the pipelines whose settings changed; forget the NMSs that left."""
        if new.web != old.web:
            log.warning("web settings changed; they take effect after a restart")
        collect_changed = new.collect != old.collect or new.units != old.units
        wanted = {nms.name: nms for nms in new.nms}
        for name in list(self.pipelines):
            if name not in wanted or collect_changed or self.pipelines[name].config != wanted[name]:
                pipeline = self.pipelines.pop(name)
                await pipeline.stop()
                if name not in wanted:
                    pipeline.forget()
        for name, nms in wanted.items():
            if name not in self.pipelines:
                self._start_nms(nms)
        self._render.want()
        log.info("configuration reloaded", extra={"fields": {"nms": list(wanted)}})


def tune_interpreter() -> None:
    """Interpreter settings of a process that holds half a million records and serves scrapes.

    Renders run in a worker thread: a short GIL switch interval keeps the event loop (and so
    /metrics) answering within a millisecond while a render holds the interpreter. The
    collector's young generation runs every 10,000 new containers instead of 700: a sweep
    keeps tens of thousands of small objects alive for a while (pages, requests), and each
    early collection would re-examine them (about 75 collections per 500k-series sweep).
    """
    sys.setswitchinterval(0.0005)
    gc.set_threshold(10_000, 10, 10)


async def run_until_stopped(
    exporter: Exporter, listen: str | None = None, shutdown_timeout: float = 5.0
) -> None:
    """Serve until SIGTERM/SIGINT; SIGHUP reloads the configuration."""
    tune_interpreter()
    await serve_until_signalled(
        lambda: exporter.start(listen),
        exporter.close,
        reload=exporter.reload,
        shutdown_timeout=shutdown_timeout,
    )
