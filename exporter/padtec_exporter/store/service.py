"""The store process: HTTP endpoints, schema set-up and the periodic jobs."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
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
from padtec_exporter.store.database import Database, DatabaseUnavailable, DataRefused
from padtec_exporter.store.metrics import StoreMetrics
from padtec_exporter.store.remote_write import (
    PayloadError,
    PayloadTooLarge,
    decode_write_request,
    decompress,
)
from padtec_exporter.store.writer import UNSTORABLE, LabelLimits, SampleWriter
from padtec_exporter.web.landing import landing

log = logging.getLogger(__name__)
LANDING_PATHS = [
    ("POST /api/v1/write", "Prometheus remote-write receiver"),
    ("POST /api/v1/alerts", "Alertmanager webhook receiver (alarm history)"),
    ("/metrics", "the store's own metrics"),
    ("/healthz", "liveness"),
    ("/readyz", "readiness (schema ready, database answering)"),
]
# Expected while a dependency is away: logged as one line, not a traceback.
_EXPECTED_JOB_ERRORS = (DatabaseUnavailable, httpx2.HTTPError)
_Arg = TypeVar("_Arg")
_T = TypeVar("_T")
_SKIPPED = "skipped: another receiver runs this job now"


class StoreService:
    def __init__(self, config: StoreConfig, dsn: str) -> None:
        self.config = config
        self.db = Database(dsn, config.connections, statement_timeout=config.write_timeout_seconds)
        self.registry = new_registry()
        self.metrics = StoreMetrics(self.registry)
        limits = config.limits
        # One thread: the decoder is pure Python (the GIL), more threads would not go faster.
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-cpu")
        self.writer = SampleWriter(
            self.db,
            config.metrics,
            LabelLimits(
                limits.max_label_name_bytes,
                limits.max_label_value_bytes,
                limits.max_labels_per_series,
            ),
            self.offload,
        )
        self._writes = 0  # remote-write requests in progress
        self._write_failures = 0  # answered 5xx in a row
        self._last_failure = ""
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
        self._cpu.shutdown(wait=False, cancel_futures=True)

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
        limits = self.config.limits
        # aiohttp refuses (413) a body above this while reading it, chunked or not.
        app = web.Application(
            client_max_size=max(limits.max_request_bytes, limits.max_webhook_bytes)
        )
        app.router.add_post("/api/v1/write", self.remote_write)
        app.router.add_post("/api/v1/alerts", self.alert_webhook)
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/readyz", self.readyz)
        app.router.add_get("/", landing("Padtec store", LANDING_PATHS, self._state))
        return app

    def _state(self) -> str:
        return "Schema ready." if self.ready else "Starting: waiting for the database."

    async def offload(self, work: Callable[[], _T]) -> _T:
        """CPU-bound work (inflate, decode, COPY rows) on the store's one worker thread, so the
        event loop keeps answering /healthz, /readyz and /metrics meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self._cpu, work)

    def _refuse(
        self, endpoint: str, reason: str, status: int, text: str, **headers: str
    ) -> web.Response:
        self.metrics.refused.labels(endpoint, reason).inc()
        return web.Response(status=status, text=text + "\n", headers=headers or None)

    async def remote_write(self, request: web.Request) -> web.Response:
        """204 only once the samples are committed; 4xx for what can never be stored
        (Prometheus drops it); 5xx when the database cannot take them now (it retries)."""
        if not self.ready:
            return self._refuse("write", "starting", 503, "store starting: schema not ready")
        refusal = _check_write_headers(request.headers)
        if refusal is not None:
            status, reason, text = refusal
            log.warning(
                "remote-write request refused",
                extra={"fields": {"reason": reason, "peer": request.remote}},
            )
            return self._refuse("write", reason, status, text)
        limits = self.config.limits
        if (request.content_length or 0) > limits.max_request_bytes:
            return self._refuse(
                "write", "too_large", 413, f"body above {limits.max_request_bytes} bytes"
            )
        if self._writes >= limits.max_concurrent_writes:
            # Back-pressure: Prometheus honours Retry-After on a 5xx and keeps the batch.
            return self._refuse(
                "write", "busy", 503, "store busy, retry later", **{"Retry-After": "1"}
            )
        self._writes += 1
        try:
            response = await self._remote_write(request)
        finally:
            self._writes -= 1
        if response.status >= 500:
            self._write_failures += 1
        elif response.status < 300:
            self._write_failures = 0
        return response

    async def _remote_write(self, request: web.Request) -> web.Response:
        body = await request.read()
        started = time.perf_counter()
        limit = self.config.limits.max_decompressed_bytes
        known = self.writer.known_labels
        try:
            samples = await self.offload(
                lambda: decode_write_request(decompress(body, limit), known)
            )
            count = len(samples)
            result = await self.writer.write(samples)
        except PayloadTooLarge as exc:
            log.warning(
                "remote-write payload refused",
                extra={"fields": {"error": str(exc), "bytes": len(body), "peer": request.remote}},
            )
            return self._refuse("write", "too_large", 413, f"remote-write payload {exc}")
        except PayloadError as exc:
            log.warning(
                "remote-write payload refused",
                extra={"fields": {"error": str(exc), "bytes": len(body), "peer": request.remote}},
            )
            return self._refuse("write", "malformed", 400, f"malformed remote-write payload: {exc}")
        except DatabaseUnavailable as exc:
            self._last_failure = f"database unavailable: {exc}"
            log.warning(
                "database unavailable; asking Prometheus to retry",
                extra={"fields": {"error": str(exc)}},
            )
            return self._refuse("write", "database", 503, "database unavailable, retry later")
        except DataRefused as exc:
            # The samples' COPY itself was refused: retrying cannot help.
            log.error(
                "database refused the batch's samples; dropped",
                extra={"fields": {"sqlstate": exc.sqlstate, "error": str(exc)}},
            )
            self.metrics.dropped.labels("database_refused").inc(count)
            return self._refuse("write", "nothing_storable", 400, f"database refused: {exc}")
        except psycopg.Error as exc:
            # Unclassified: most likely our bug; a 5xx keeps the samples in Prometheus' WAL.
            self._last_failure = f"database error {exc.sqlstate}"
            log.error(
                "database refused the write",
                extra={"fields": {"error": type(exc).__name__, "sqlstate": exc.sqlstate}},
            )
            return self._refuse("write", "database_error", 500, f"database error {exc.sqlstate}")
        self.metrics.duration.observe(time.perf_counter() - started)
        self.metrics.received.inc(result.received)
        self.metrics.written.inc(result.written)
        for reason, count in result.dropped.items():
            self.metrics.dropped.labels(reason).inc(count)
        self.metrics.last_write.set(time.time())
        if result.received and not result.written and set(result.dropped) <= UNSTORABLE:
            # Nothing in it can ever be stored: 4xx, so Prometheus drops it (remote-write spec).
            reasons = ", ".join(f"{k} {v}" for k, v in sorted(result.dropped.items()))
            return self._refuse("write", "nothing_storable", 400, f"no sample storable: {reasons}")
        return web.Response(status=204)

    async def alert_webhook(self, request: web.Request) -> web.Response:
        """Alertmanager webhook (version 4): 200 once recorded; 4xx for what is not a webhook
        or cannot be stored (Alertmanager does not retry it); 503 while the database is away
        (it retries)."""
        limits = self.config.limits
        if (request.content_length or 0) > limits.max_webhook_bytes:
            return self._refuse(
                "alerts", "too_large", 413, f"body above {limits.max_webhook_bytes} bytes"
            )
        body = await request.read()
        altered: dict[str, int] = {}
        bounds = alarms.WebhookLimits(limits.max_label_value_bytes, limits.max_annotation_bytes)
        try:
            rows = await self.offload(lambda: alarms.parse_webhook(body, bounds, altered))
        except alarms.WebhookError as exc:
            log.warning("alert webhook refused", extra={"fields": {"error": str(exc)}})
            return self._refuse("alerts", "malformed", 400, f"not an Alertmanager webhook: {exc}")
        for reason, count in altered.items():
            self.metrics.alert_values_altered.labels(reason).inc(count)
        if altered:
            log.warning("alert values sanitised", extra={"fields": {"changes": altered}})
        if not self.ready:
            return self._refuse("alerts", "starting", 503, "store starting: schema not ready")
        try:
            stored = await self._record_alarms(rows)
        except DatabaseUnavailable:
            return self._refuse("alerts", "database", 503, "database unavailable, retry later")
        except psycopg.Error as exc:
            log.error(
                "database refused the alerts",
                extra={"fields": {"error": type(exc).__name__, "sqlstate": exc.sqlstate}},
            )
            return self._refuse("alerts", "database_error", 500, f"database error {exc.sqlstate}")
        if rows and not stored:
            return self._refuse("alerts", "nothing_storable", 400, "no alert could be stored")
        return web.Response(status=200, text="recorded\n")

    async def _record_alarms(self, rows: list[alarms.AlarmRow]) -> int:
        """All in one transaction; when the database refuses one of them for good, each on its
        own, dropping (and counting) the ones refused."""
        try:
            await self.db.run(lambda conn: self._in_transaction(conn, alarms.record, rows))
            return len(rows)
        except DataRefused:
            pass
        stored = 0
        for row in rows:
            try:
                await self.db.run(
                    functools.partial(self._in_transaction, work=alarms.record, arg=[row])
                )
                stored += 1
            except DataRefused as exc:
                self.metrics.alerts_dropped.labels("database_refused").inc()
                log.warning(
                    "alert dropped: cannot be stored",
                    extra={
                        "fields": {
                            "alertname": row.labels.get("alertname", "")[:100],
                            "sqlstate": exc.sqlstate,
                        }
                    },
                )
        return stored

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(self, request: web.Request) -> web.Response:
        if not self.ready:
            return web.Response(status=503, text="schema not ready\n")
        failures = self._write_failures
        if failures >= self.config.limits.unready_after_failures:
            return web.Response(
                status=503,
                text=f"writes failing: the last {failures} failed ({self._last_failure})\n",
            )
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


_SNAPPY = "snappy"
_PROTOBUF = "application/x-protobuf"


def _check_write_headers(headers: Mapping[str, str]) -> tuple[int, str, str] | None:
    """Remote-write 1.0: snappy-encoded protobuf. Anything else is refused before the body
    is read: (status, reason, text), or None when the headers are fine. Missing headers are
    taken as the spec's values (some senders leave them out)."""
    encoding = headers.get("Content-Encoding", _SNAPPY).strip().lower()
    if encoding != _SNAPPY:
        return (
            415,
            "unsupported_encoding",
            f"Content-Encoding {encoding[:40]!r} not accepted: remote-write bodies are snappy",
        )
    media, _, params = headers.get("Content-Type", _PROTOBUF).partition(";")
    if media.strip().lower() != _PROTOBUF:
        return 415, "unsupported_type", f"Content-Type {media[:60]!r} not accepted: {_PROTOBUF}"
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "proto" and value.strip('"') != "prometheus.WriteRequest":
            return (
                415,
                "unsupported_type",
                f"protobuf message {value[:60]!r} not accepted: remote-write 1.0 "
                "(prometheus.WriteRequest) only",
            )
    version = headers.get("X-Prometheus-Remote-Write-Version", "0.1.0").strip()
    if not version.startswith(("0.", "1.")):
        return (
            415,
            "unsupported_version",
            f"remote-write version {version[:20]!r} not accepted: 0.1.0 (1.0) only",
        )
    return None
