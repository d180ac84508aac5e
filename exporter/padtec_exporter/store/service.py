"""The store process: HTTP endpoints, schema set-up and the periodic jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx2
import psycopg
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from padtec_exporter.registry import new_registry
from padtec_exporter.store import alarms, jobs, schema
from padtec_exporter.store.config import StoreConfig
from padtec_exporter.store.database import Database, DatabaseUnavailable
from padtec_exporter.store.metrics import StoreMetrics
from padtec_exporter.store.remote_write import PayloadError, decode_write_request, decompress
from padtec_exporter.store.writer import SampleWriter
from padtec_exporter.web.landing import landing

log = logging.getLogger(__name__)
LANDING_PATHS = [
    ("POST /api/v1/write", "Prometheus remote-write receiver"),
    ("POST /api/v1/alerts", "Alertmanager webhook receiver (alarm history)"),
    ("/metrics", "the store's own metrics"),
    ("/healthz", "liveness"),
    ("/readyz", "readiness (schema ready, database answering)"),
]
MAX_BODY = 64 * 1024 * 1024
# Expected while a dependency is away: logged as one line, not a traceback.
_EXPECTED_JOB_ERRORS = (DatabaseUnavailable, httpx2.HTTPError)
_Arg = TypeVar("_Arg")
_SKIPPED = "skipped: another receiver runs this job now"


class StoreService:
    def __init__(self, config: StoreConfig, dsn: str) -> None:
        self.config = config
        self.db = Database(dsn, config.connections, statement_timeout=config.write_timeout_seconds)
        self.registry = new_registry()
        self.metrics = StoreMetrics(self.registry)
        self.writer = SampleWriter(self.db, config.metrics)
        self.plain = True
        self.ready = False  # schema in place; until then writes get 503
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        await self.setup_schema()
        self._schedule("store-jobs", self.config.jobs_interval_seconds, self.run_jobs)
        if self.config.alertmanager_url:
            self._schedule(
                "store-silences", self.config.silences_interval_seconds, self.poll_silences
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
                    await conn.execute("SET LOCAL statement_timeout = 0")
                    self.plain = not await self._use_timescale(conn)
                    await conn.execute(schema.COMMON)
                    if self.plain:
                        await conn.execute(schema.PLAIN)
                        await jobs.ensure_partitions(conn, datetime.now(UTC))
                    else:
                        await conn.execute(schema.timescale(self.config.retention))
                break
            except DatabaseUnavailable as exc:
                log.warning(
                    "database not reachable yet; retrying", extra={"fields": {"error": str(exc)}}
                )
                await asyncio.sleep(2)
        self.ready = True
        log.info(
            "store schema ready",
            extra={"fields": {"backend": "postgresql" if self.plain else "timescaledb"}},
        )

    async def _use_timescale(self, conn: psycopg.AsyncConnection) -> bool:
        if self.config.backend in ("postgresql", "timescaledb"):
            return self.config.backend == "timescaledb"
        # Installed in this database, or installable: packaged and preloaded by the server.
        cur = await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') OR "
            "(EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') AND "
            "current_setting('shared_preload_libraries') LIKE '%%timescaledb%%')"
        )
        row = await cur.fetchone()
        return bool(row and row[0])

    def _schedule(self, name: str, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        async def every() -> None:
            while True:
                try:
                    await job()
                except _EXPECTED_JOB_ERRORS as exc:
                    log.warning(
                        "store job failed",
                        extra={"fields": {"job": name, "error": type(exc).__name__}},
                    )
                except Exception:
                    log.exception("store job failed", extra={"fields": {"job": name}})
                await asyncio.sleep(seconds)

        self._tasks.append(asyncio.create_task(every(), name=name))

    # -- jobs ------------------------------------------------------------------------------
    async def run_jobs(self, now: datetime | None = None) -> None:
        """Partitions, aggregates, retention: each in its own transaction, so one failing does
        not hold back the others. Raises the first failure after trying all."""
        now = now or datetime.now(UTC)
        retention = self.config.retention
        steps: list[tuple[str, Callable[[psycopg.AsyncConnection], Awaitable[object]]]] = [
            ("retention", lambda c: jobs.apply_retention(c, now, retention, self.plain))
        ]
        if self.plain:
            steps[:0] = [
                ("partitions", lambda c: jobs.ensure_partitions(c, now)),
                ("aggregate", lambda c: jobs.aggregate(c, now)),
            ]
        failure: Exception | None = None
        for name, step in steps:
            try:
                await self._run_step(name, step)
            except Exception as exc:  # reported below, after the other jobs
                failure = failure or exc
        if failure is not None:
            raise failure

    async def _run_step(
        self, name: str, step: Callable[[psycopg.AsyncConnection], Awaitable[object]]
    ) -> None:
        started = time.perf_counter()

        async def in_transaction(conn: psycopg.AsyncConnection) -> object:
            async with conn.transaction():
                # Several receivers may share one database (HA): one runs a job at a time.
                cur = await conn.execute(
                    "SELECT pg_try_advisory_xact_lock(hashtext('padtec_store_job'), hashtext(%s))",
                    (name,),
                )
                row = await cur.fetchone()
                if not (row and row[0]):
                    return _SKIPPED
                await conn.execute("SET LOCAL statement_timeout = 0")  # jobs may take long
                return await step(conn)

        try:
            outcome = await self.db.run(in_transaction)
        except Exception:
            self.metrics.job_runs.labels(name, "failure").inc()
            raise
        self.metrics.job_runs.labels(name, "skipped" if outcome is _SKIPPED else "success").inc()
        log.info(
            "store job done",
            extra={
                "fields": {
                    "job": name,
                    **_outcome_fields(outcome),
                    "seconds": round(time.perf_counter() - started, 3),
                }
            },
        )

    async def poll_silences(self) -> None:
        assert self.config.alertmanager_url
        try:
            async with httpx2.AsyncClient(timeout=10) as client:
                response = await client.get(f"{self.config.alertmanager_url}/api/v2/silences")
                response.raise_for_status()
                silences = response.json()
            await self.db.run(lambda conn: self._in_transaction(conn, alarms.acknowledge, silences))
        except Exception:
            self.metrics.job_runs.labels("silences", "failure").inc()
            raise
        self.metrics.job_runs.labels("silences", "success").inc()

    @staticmethod
    async def _in_transaction(
        conn: psycopg.AsyncConnection,
        work: Callable[[psycopg.AsyncConnection, _Arg], Awaitable[int]],
        arg: _Arg,
    ) -> int:
        async with conn.transaction():
            return await work(conn, arg)

    # -- HTTP ------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/api/v1/write", self.remote_write)
        app.router.add_post("/api/v1/alerts", self.alert_webhook)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/", landing("Padtec store", LANDING_PATHS, self._state))
        return app

    def _state(self) -> str:
        return "Schema ready." if self.ready else "Starting: waiting for the database."

    async def remote_write(self, request: web.Request) -> web.Response:
        """204 only once the samples are committed; 400 for garbage (Prometheus drops it);
        5xx when the database cannot take them now (Prometheus retries)."""
        if not self.ready:
            self.metrics.refused.labels("write", "starting").inc()
            return web.Response(status=503, text="store starting: schema not ready\n")
        body = await request.read()
        started = time.perf_counter()
        try:
            samples = decode_write_request(decompress(body), self.writer.known_labels)
            result = await self.writer.write(samples)
        except PayloadError as exc:
            self.metrics.refused.labels("write", "malformed").inc()
            log.warning(
                "remote-write payload refused",
                extra={"fields": {"error": str(exc), "bytes": len(body), "peer": request.remote}},
            )
            return web.Response(status=400, text=f"malformed remote-write payload: {exc}\n")
        except DatabaseUnavailable as exc:
            self.metrics.refused.labels("write", "database").inc()
            log.warning(
                "database unavailable; asking Prometheus to retry",
                extra={"fields": {"error": str(exc)}},
            )
            return web.Response(status=503, text="database unavailable, retry later\n")
        except psycopg.Error as exc:
            # Not stored: a 5xx makes Prometheus retry rather than drop the samples.
            self.metrics.refused.labels("write", "database_error").inc()
            log.error(
                "database refused the write",
                extra={"fields": {"error": type(exc).__name__, "sqlstate": exc.sqlstate}},
            )
            return web.Response(status=500, text=f"database error {exc.sqlstate}\n")
        self.metrics.duration.observe(time.perf_counter() - started)
        self.metrics.received.inc(result.received)
        self.metrics.written.inc(result.written)
        for reason, count in result.dropped.items():
            self.metrics.dropped.labels(reason).inc(count)
        self.metrics.last_write.set(time.time())
        return web.Response(status=204)

    async def alert_webhook(self, request: web.Request) -> web.Response:
        """Alertmanager webhook (version 4): 200 once recorded; 400 for what is not a webhook
        (Alertmanager does not retry it); 503 while the database is away (it retries)."""
        try:
            rows = alarms.parse_webhook(await request.read())
        except alarms.WebhookError as exc:
            self.metrics.refused.labels("alerts", "malformed").inc()
            log.warning("alert webhook refused", extra={"fields": {"error": str(exc)}})
            return web.Response(status=400, text=f"not an Alertmanager webhook: {exc}\n")
        if not self.ready:
            self.metrics.refused.labels("alerts", "starting").inc()
            return web.Response(status=503, text="store starting: schema not ready\n")
        try:
            await self.db.run(lambda conn: self._in_transaction(conn, alarms.record, rows))
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
        if not self.ready:
            return web.Response(status=503, text="schema not ready\n")
        try:
            await self.db.run(lambda conn: conn.execute("SELECT 1"))
        except DatabaseUnavailable as exc:
            return web.Response(status=503, text=f"database unavailable: {exc}\n")
        return web.Response(text="ready\n")


def _outcome_fields(outcome: object) -> dict[str, object]:
    """A job's result as log fields people read (not a Python repr such as ``(0, 0)``)."""
    if outcome is _SKIPPED:
        return {"result": "skipped (another receiver runs it)"}
    if isinstance(outcome, tuple) and len(outcome) == 2:  # aggregate: hourly, daily rows
        return {"hourly_rows": outcome[0], "daily_rows": outcome[1]}
    if isinstance(outcome, list):  # partitions created
        return {"created": ", ".join(map(str, outcome)) or "none"}
    if isinstance(outcome, dict):  # rows removed per table
        return {f"removed_{k}": v for k, v in outcome.items()} or {"removed": 0}
    return {"result": str(outcome)}
