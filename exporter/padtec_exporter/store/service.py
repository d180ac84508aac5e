"""The store process: HTTP endpoints, schema set-up and the periodic jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

import httpx
import msgspec
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from padtec_exporter.store import alarms, jobs, schema
from padtec_exporter.store.config import StoreConfig
from padtec_exporter.store.database import Database, DatabaseUnavailable
from padtec_exporter.store.remote_write import PayloadError, decode_write_request, decompress
from padtec_exporter.store.writer import SampleWriter

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024 * 1024


class StoreMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "padtec_store_samples_received", "Samples received by remote-write.", registry=registry
        )
        self.written = Counter(
            "padtec_store_samples_written", "Samples newly stored.", registry=registry
        )
        self.dropped = Counter(
            "padtec_store_samples_dropped",
            "Samples not stored, by reason.",
            ["reason"],
            registry=registry,
        )
        self.refused = Counter(
            "padtec_store_requests_refused",
            "Requests answered with an error, by reason.",
            ["endpoint", "reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "padtec_store_write_duration_seconds",
            "Time to store one remote-write request.",
            registry=registry,
        )
        self.last_write = Gauge(
            "padtec_store_last_write_success_timestamp_seconds",
            "When a remote-write request was last stored.",
            registry=registry,
        )
        self.job_runs = Counter(
            "padtec_store_job_runs",
            "Maintenance job runs by result.",
            ["job", "result"],
            registry=registry,
        )


class StoreService:
    def __init__(self, config: StoreConfig, dsn: str) -> None:
        self.config = config
        self.db = Database(dsn, config.connections)
        self.registry = CollectorRegistry()
        self.metrics = StoreMetrics(self.registry)
        self.writer = SampleWriter(self.db, config.metrics)
        self.plain = True
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.setup_schema()
        self._tasks.append(
            asyncio.create_task(
                self._every(self.config.jobs_interval_seconds, self.run_jobs), name="store-jobs"
            )
        )
        if self.config.alertmanager_url:
            self._tasks.append(
                asyncio.create_task(
                    self._every(self.config.silences_interval_seconds, self.poll_silences),
                    name="store-silences",
                )
            )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.db.close()

    async def setup_schema(self) -> None:
        """Create what is missing (idempotent). Waits for the database to come up."""
        while True:
            try:
                async with self.db.connection() as conn, conn.transaction():
                    self.plain = not await self._use_timescale(conn)
                    await conn.execute(schema.COMMON)
                    if self.plain:
                        await conn.execute(schema.PLAIN)
                        await jobs.ensure_partitions(conn, datetime.now(UTC))
                    else:
                        r = self.config.retention
                        await conn.execute(
                            schema.TIMESCALE.format(
                                raw_days=r.raw_days,
                                hourly_days=r.hourly_days,
                                daily_days=r.daily_days,
                            )
                        )
                log.info(
                    "store schema ready",
                    extra={"fields": {"backend": "postgresql" if self.plain else "timescaledb"}},
                )
                return
            except DatabaseUnavailable as exc:
                log.warning(
                    "database not reachable yet; retrying", extra={"fields": {"error": str(exc)}}
                )
                await asyncio.sleep(2)

    async def _use_timescale(self, conn: object) -> bool:
        if self.config.backend in ("postgresql", "timescaledb"):
            return self.config.backend == "timescaledb"
        cur = await conn.execute(  # type: ignore[attr-defined]
            "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'"
        )
        return await cur.fetchone() is not None

    async def _every(self, seconds: float, job: object) -> None:
        while True:
            try:
                await job()  # type: ignore[operator]
            except Exception:
                log.exception("store job failed")
            await asyncio.sleep(seconds)

    # -- jobs ------------------------------------------------------------------------------
    async def run_jobs(self, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        try:
            async with self.db.connection() as conn, conn.transaction():
                if self.plain:
                    await jobs.ensure_partitions(conn, now)
                    await jobs.aggregate(conn, now)
                removed = await jobs.apply_retention(conn, now, self.config.retention, self.plain)
        except DatabaseUnavailable:
            self.metrics.job_runs.labels("maintenance", "failure").inc()
            raise
        self.metrics.job_runs.labels("maintenance", "success").inc()
        log.info("store jobs done", extra={"fields": {"removed": removed}})

    async def poll_silences(self) -> None:
        assert self.config.alertmanager_url
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(f"{self.config.alertmanager_url}/api/v2/silences")
            response.raise_for_status()
            silences = response.json()
        async with self.db.connection() as conn, conn.transaction():
            await alarms.acknowledge(conn, silences)

    # -- HTTP ------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/api/v1/write", self.remote_write)
        app.router.add_post("/api/v1/alerts", self.alert_webhook)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        return app

    async def remote_write(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            batch = decode_write_request(decompress(body))
        except PayloadError as exc:
            self.metrics.refused.labels("write", "malformed").inc()
            log.warning(
                "remote-write payload refused",
                extra={"fields": {"error": str(exc), "bytes": len(body), "peer": request.remote}},
            )
            return web.Response(status=400, text=f"malformed remote-write payload: {exc}\n")
        started = time.perf_counter()
        try:
            result = await self.writer.write(batch)
        except (TimeoutError, DatabaseUnavailable) as exc:
            self.metrics.refused.labels("write", "database").inc()
            log.warning(
                "database unavailable; asking Prometheus to retry",
                extra={"fields": {"error": str(exc)}},
            )
            return web.Response(status=503, text="database unavailable, retry later\n")
        self.metrics.duration.observe(time.perf_counter() - started)
        self.metrics.received.inc(result.received)
        self.metrics.written.inc(result.written)
        for reason, count in result.dropped.items():
            self.metrics.dropped.labels(reason).inc(count)
        self.metrics.last_write.set(time.time())
        return web.Response(status=204)

    async def alert_webhook(self, request: web.Request) -> web.Response:
        try:
            webhook = alarms.parse_webhook(await request.read())
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            self.metrics.refused.labels("alerts", "malformed").inc()
            return web.Response(status=400, text=f"not an Alertmanager webhook: {exc}\n")
        try:
            async with self.db.connection() as conn, conn.transaction():
                await alarms.record(conn, webhook)
        except DatabaseUnavailable:
            self.metrics.refused.labels("alerts", "database").inc()
            return web.Response(status=503, text="database unavailable, retry later\n")
        return web.Response(status=200, text="recorded\n")

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        try:
            async with self.db.connection() as conn:
                await conn.execute("SELECT 1")
        except DatabaseUnavailable as exc:
            return web.Response(status=503, text=f"database unavailable: {exc}\n")
        return web.Response(text="ready\n")
