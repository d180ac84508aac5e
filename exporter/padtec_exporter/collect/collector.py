"""One NMS's tiered collection: inventory, critical measures, all measures, alarms.

Each tier is its own loop, so a slow full sweep never delays the critical tier, and a tier
never overlaps itself (ticks missed while a run is still busy are counted as skipped).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import MappingProxyType
from typing import TypeVar

from padtec_exporter.collect.data import NmsData
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, TierConfig
from padtec_exporter.model import MalformedPage, RowDecoder
from padtec_exporter.model.values import DUPLICATE
from padtec_exporter.nms import MalformedReply, NmsClient, NmsError, Page

log = logging.getLogger(__name__)

T = TypeVar("T")
JOBS = ["inventory", "critical", "normal", "alarms"]
# After a failed run, try again sooner than the tier's interval (an hourly inventory that
# failed at start-up must not leave the exporter unready for an hour).
RETRY_AFTER_FAILURE_SECONDS = 15.0


class NmsCollector:
    def __init__(
        self,
        name: str,
        client: NmsClient,
        decoder: RowDecoder,
        collect: CollectConfig,
        metrics: CollectMetrics,
        on_publish: Callable[[NmsData], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.data = NmsData(name=name)
        self._client = client
        self._decoder = decoder
        self._collect = collect
        self._metrics = metrics
        self._on_publish = on_publish
        self._clock = clock
        self._jobs: dict[str, tuple[TierConfig, Callable[[], Awaitable[None]]]] = {
            "inventory": (collect.inventory, self.collect_inventory),
            "critical": (collect.critical, self.collect_critical),
            "normal": (collect.normal, self.collect_all_measures),
            "alarms": (collect.alarms, self.collect_alarms),
        }
        metrics.prepare(name, JOBS)

    # -- scheduling ------------------------------------------------------------------------
    async def run(self) -> None:
        """Run every enabled tier until cancelled; the inventory goes first."""
        inventory_tier, inventory = self._jobs["inventory"]
        async with asyncio.TaskGroup() as group:
            group.create_task(self._loop("inventory", inventory_tier, inventory))
            for job, (tier, run) in self._jobs.items():
                if job != "inventory" and tier.enabled:
                    group.create_task(self._loop(job, tier, run))

    async def _loop(self, job: str, tier: TierConfig, run: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            ok = await self.run_job(job, run)
            interval = (
                tier.interval_seconds
                if ok
                else min(tier.interval_seconds, RETRY_AFTER_FAILURE_SECONDS)
            )
            elapsed = loop.time() - started
            missed = int(elapsed // interval)
            if missed:
                self._metrics.runs.labels(self.name, job, "skipped").inc(missed)
            await asyncio.sleep(interval - elapsed % interval)

    async def run_job(self, job: str, run: Callable[[], Awaitable[None]] | None = None) -> bool:
        """One run of a job, timed and counted; never raises for NMS trouble."""
        run = run or self._jobs[job][1]
        started = time.perf_counter()
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that arrives
            # as the job finishes, and the exporter would then never stop.
            async with asyncio.timeout(self._collect.timeout_seconds):
                await run()
        except (NmsError, TimeoutError) as exc:
            self._finish(job, started, ok=False)
            log.warning(
                "collection failed",
                extra={
                    "fields": {
                        "nms": self.name,
                        "tier": job,
                        "error": type(exc).__name__,
                        "detail": str(exc),
                    }
                },
            )
            return False
        except Exception:
            self._finish(job, started, ok=False)
            log.exception("collection crashed", extra={"fields": {"nms": self.name, "tier": job}})
            return False
        self._finish(job, started, ok=True)
        return True

    def _finish(self, job: str, started: float, ok: bool) -> None:
        self._metrics.duration.labels(self.name, job).set(time.perf_counter() - started)
        self._metrics.runs.labels(self.name, job, "success" if ok else "failure").inc()
        if ok:
            self._metrics.last_success.labels(self.name, job).set(self._clock())

    # -- jobs ------------------------------------------------------------------------------
    async def collect_inventory(self) -> None:
        cards = await self._fetch("inventory/state", self._collect.inventory, self._decoder.cards)
        by_uid = {card.uid: card for card in cards}  # the later row wins
        self._count_duplicates("inventory", len(cards) - len(by_uid))
        self._publish(replace(self.data, cards=MappingProxyType(by_uid), inventory_ok=True))

    async def collect_critical(self) -> None:
        await self._collect_measures(self._collect.critical, full=False)

    async def collect_all_measures(self) -> None:
        await self._collect_measures(self._collect.normal, full=True)

    async def collect_alarms(self) -> None:
        alarms = await self._fetch("alarm/state", self._collect.alarms, self._decoder.alarms)
        active = tuple(alarm for alarm in alarms if alarm.is_active)
        self._publish(replace(self.data, alarms=active))

    async def _collect_measures(self, tier: TierConfig, *, full: bool) -> None:
        fetched_at = self._clock()
        rows = await self._fetch("measures/state", tier, self._decoder.measures)
        new = {m.uid: m for m in rows}  # the later row wins
        self._count_duplicates("measures", len(rows) - len(new))
        current = self.data
        if full:
            # A full sweep replaces everything (series gone from the NMS disappear), except
            # rows another tier fetched after this sweep began: those are fresher.
            measures = new
            # The decoder's per-series cache follows the sweep: series gone are forgotten.
            self._decoder.retain(new)
            fetched = dict.fromkeys(new, fetched_at)
            for uid, at in current.fetched_at.items():
                if at > fetched_at and uid in current.measures:
                    measures[uid] = current.measures[uid]
                    fetched[uid] = at
        else:
            measures = {**current.measures, **new}
            fetched = {**current.fetched_at, **dict.fromkeys(new, fetched_at)}
        self._publish(
            replace(
                self.data, measures=MappingProxyType(measures), fetched_at=MappingProxyType(fetched)
            )
        )

    # -- helpers ---------------------------------------------------------------------------
    async def _fetch(
        self, endpoint: str, tier: TierConfig, decode: Callable[[bytes], tuple[list[T], int]]
    ) -> list[T]:
        def page(body: bytes) -> Page[T]:
            try:
                rows, raw_count = decode(body)
            except MalformedPage as exc:
                raise MalformedReply(str(exc)) from exc
            return Page(rows=rows, raw_count=raw_count)

        rows: list[T] = []
        for filters in tier.filters or [{}]:
            rows.extend(await self._client.fetch_all(endpoint, filters, page))
        return rows

    def _count_duplicates(self, resource: str, count: int) -> None:
        if count:  # the label set only appears once there was a duplicate, as before
            self._metrics.rows_invalid.labels(self.name, resource, DUPLICATE).inc(count)

    def _publish(self, data: NmsData) -> None:
        self.data = data
        self._on_publish(data)
