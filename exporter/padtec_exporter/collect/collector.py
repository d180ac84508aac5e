"""One NMS's tiered collection: the tiers of tiers.py (inventory, critical measures, all
measures, alarms), each sweeping its NMS view.

Each tier is its own loop, so a slow full sweep never delays the critical tier, and a tier
never overlaps itself (ticks missed while a run is still busy are counted as skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from padtec_exporter import tiers
from padtec_exporter.collect.data import NmsData
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.collect.runlog import RunLog
from padtec_exporter.config import CollectConfig, TierConfig
from padtec_exporter.model import Alarm, Card, MalformedPage, Measure, RowDecoder
from padtec_exporter.model.values import DUPLICATE
from padtec_exporter.nms import MalformedReply, NmsClient, NmsError, Page
from padtec_exporter.nms.clock import ClockTracker, to_local_wall

log = logging.getLogger(__name__)

T = TypeVar("T")
FAILURE = "failure"
# After a failed run, try again sooner than the tier's interval (an hourly inventory that
# failed at start-up must not leave the exporter unready for an hour).
RETRY_AFTER_FAILURE_SECONDS = 15.0
WATCH_SECONDS = 1.0  # how often a running tier's progress is checked
# While measures name cards the inventory lacks, the inventory runs again this often at most.
UNKNOWN_CARDS_INVENTORY_SECONDS = 60.0
SUCCESS, INCOMPLETE = "success", "incomplete"
# The */count endpoint of each full view, and how to read its answer.
COUNTS: dict[str, tuple[str, Callable[[Any], int | None]]] = {
    "inventory/state": ("inventory/count", lambda body: _integer(body)),
    "measures/state": ("measures/count", lambda body: _integer(body)),
    # An object of counts by severity; TOTAL is assumed to count the active alarms.
    "alarm/state": (
        "alarm/count",
        lambda body: _integer(body.get("TOTAL")) if isinstance(body, dict) else None,
    ),
}
# The filters of a tier that still make it a full sweep of its view (alarms: the active ones):
# the full tier's defaults.
FULL_FILTERS: dict[str, list[dict[str, str]]] = {
    t.endpoint: [dict(f) for f in t.filters] for t in tiers.TIERS if t.full
}
Job = Callable[[], Awaitable[str | None]]
# The tier whose cards everything else refers to: it runs first and can be brought forward.
INVENTORY_TIER = next(t.name for t in tiers.TIERS if t.endpoint == tiers.INVENTORY)


class RunStalled(Exception):
    """A tier's run got no answer from the NMS for longer than its stall budget."""


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
        nms_clock: ClockTracker | None = None,
    ) -> None:
        self.name = name
        self.data = NmsData(name=name)
        self._client = client
        self._decoder = decoder
        self._collect = collect
        self._metrics = metrics
        self._on_publish = on_publish
        self._clock = clock
        self.runlog = RunLog(name, clock)
        self._nms_clock = nms_clock or ClockTracker()
        self._jobs: dict[str, tuple[TierConfig, Job]] = {
            tier.name: (collect.tiers[tier.name], self._job(tier, collect.tiers[tier.name]))
            for tier in tiers.TIERS
        }
        # Set when measures name a card the inventory lacks: the inventory runs early.
        self._inventory_wanted = asyncio.Event()
        self._running_since: dict[str, float] = {}  # tier → monotonic start of its run
        self._inventory_at = time.monotonic()  # when the inventory last came in
        self._warned_no_date = False
        # While a full sweep of measures runs: what the other tiers published since it began.
        self._fresher: dict[str, Measure] | None = None
        metrics.prepare(name, list(tiers.NAMES))
        for tier in tiers.NAMES:
            metrics.in_flight.labels(name, tier).set_function(self._in_flight_age(tier))
        self._show_clock_offset()

    def _in_flight_age(self, tier: str) -> Callable[[], float]:
        def age() -> float:
            since = self._running_since.get(tier)
            return 0.0 if since is None else time.monotonic() - since

        return age

    def _job(self, tier: tiers.Tier, config: TierConfig) -> Job:
        """What the tier collects, by the NMS view it sweeps."""
        name = tier.name
        if tier.endpoint == tiers.INVENTORY:
            return lambda: self.collect_inventory(config, name)
        if tier.endpoint == tiers.ALARMS:
            return lambda: self.collect_alarms(config, name)
        return lambda: self._collect_measures(config, name, full=tier.full)

    # -- scheduling ------------------------------------------------------------------------
    async def run(self) -> None:
        """Run every enabled tier until cancelled; the inventory goes first (and always runs:
        readiness waits for it)."""
        async with asyncio.TaskGroup() as group:
            for job, (tier, run) in self._jobs.items():
                if tier.enabled or job == INVENTORY_TIER:
                    group.create_task(self._loop(job, tier, run))

    async def _loop(self, job: str, tier: TierConfig, run: Job) -> None:
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
            pause = interval - elapsed % interval
            if job != INVENTORY_TIER:
                await asyncio.sleep(pause)
                continue
            self._inventory_wanted.clear()
            # Brought forward by unknown cards. asyncio.timeout, not wait_for (see run_job).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(pause):
                    await self._inventory_wanted.wait()

    async def run_job(self, job: str, run: Job | None = None) -> bool:
        """One run of a job, timed and counted; never raises for NMS trouble.

        True when the run succeeded, or published an incomplete sweep (counted as such, not
        as a success, and not retried sooner than the interval).
        """
        run = run or self._jobs[tiers.canonical(job)][1]
        started = time.perf_counter()
        self._running_since[job] = time.monotonic()
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that arrives
            # as the job finishes, and the exporter would then never stop.
            async with asyncio.timeout(self._collect.timeout_seconds):
                outcome = await self._watched(run)
        except (NmsError, TimeoutError, RunStalled) as exc:
            # The run log warns when a failure streak starts and says when it ends.
            self._finish(job, started, FAILURE, error=f"{type(exc).__name__}: {exc}")
            if isinstance(exc, RunStalled):
                await self._client.reset()
            return False
        except Exception as exc:
            self._finish(job, started, FAILURE, error=f"crashed: {type(exc).__name__}")
            log.exception("collection crashed", extra={"fields": {"nms": self.name, "tier": job}})
            return False
        finally:
            self._running_since.pop(job, None)
        self._finish(job, started, outcome or SUCCESS)
        return True

    async def _watched(self, run: Job) -> str | None:
        """Run the job; cancel it once the NMS has not answered for the stall budget (the
        client's own timeouts should end every request long before: this is the net for a
        client wedged in ways no timeout covers)."""
        budget = self._collect.stall_timeout_seconds
        began = time.monotonic()
        task = asyncio.ensure_future(run())
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=min(WATCH_SECONDS, budget))
                if done:
                    return task.result()
                idle = time.monotonic() - max(began, self._client.last_response_at)
                if idle > budget:
                    raise RunStalled(f"no answer from the NMS for {idle:.0f}s; run cancelled")
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _finish(self, job: str, started: float, result: str, error: str = "") -> None:
        seconds = time.perf_counter() - started
        data = self.data
        self.runlog.record(
            job,
            result != FAILURE,
            seconds,
            error,
            cards=len(data.cards),
            measures=len(data.measures),
            alarms=len(data.alarms),
        )
        self._metrics.duration.labels(self.name, job).set(seconds)
        self._metrics.runs.labels(self.name, job, result).inc()
        if result == SUCCESS:
            self._metrics.last_success.labels(self.name, job).set(self._clock())

    # -- jobs ------------------------------------------------------------------------------
    async def collect_inventory(self, tier: TierConfig, name: str) -> str:
        fetched = await self._fetch("inventory/state", tier, self._decoder.cards, name)
        cards, missing = fetched.rows, fetched.missing
        by_uid = {card.uid: card for card in cards}  # the later row wins
        self._count_duplicates("inventory", len(cards) - len(by_uid))
        if missing:  # unseen cards stay until a complete sweep
            by_uid = {**self.data.cards, **by_uid}
        known_now = {
            uid: card for uid, card in self.data.cards_from_measures.items() if uid not in by_uid
        }
        self._metrics.cards_from_measures.labels(self.name).set(len(known_now))
        self._inventory_at = time.monotonic()
        self._publish(
            replace(
                self.data,
                cards=MappingProxyType(by_uid),
                cards_from_measures=MappingProxyType(known_now),
                inventory_ok=True,
            )
        )
        return INCOMPLETE if missing else SUCCESS

    async def collect_alarms(self, tier: TierConfig, name: str) -> str:
        fetched = await self._fetch("alarm/state", tier, self._decoder.alarms, name)
        alarms, missing = fetched.rows, fetched.missing
        active = tuple(alarm for alarm in alarms if alarm.is_active)
        if missing:  # alarms this sweep did not see stay until a complete one
            seen = {_alarm_key(alarm) for alarm in active}
            active += tuple(a for a in self.data.alarms if _alarm_key(a) not in seen)
        self._publish(replace(self.data, alarms=active))
        return INCOMPLETE if missing else SUCCESS

    async def _collect_measures(self, tier: TierConfig, name: str, *, full: bool) -> str:
        if full:
            self._fresher = {}  # what other tiers publish from now on is fresher than this sweep
        # Each page is folded in as it comes (its records are still in the CPU's cache, and
        # no half-million-row step holds the event loop at the end).
        sweep = _MeasureSweep()
        try:
            fetched = await self._fetch(
                "measures/state", tier, self._decoder.measures, name if full else None, sweep.add
            )
        finally:
            fresher = self._fresher if full else None
            if full:
                self._fresher = None
        new = sweep.measures
        missing = fetched.missing
        # Rows of the sweep the client kept (a page-size cap makes it fetch the view again;
        # folded pages of the first try only repeat series).
        self._count_duplicates("measures", fetched.kept - len(new))
        current = self.data
        if full and not missing:
            # A full sweep replaces everything (series gone from the NMS disappear), except
            # rows another tier published after this sweep began: those are fresher.
            measures = new
            if fresher:
                measures.update(fresher)
            # The decoder's per-series cache follows the sweep: series gone are forgotten.
            self._decoder.retain(measures, sweep.card_uids)
        else:
            # A partial tier, or an incomplete sweep: series not seen keep their last values.
            measures = {**current.measures, **new}
            if self._fresher is not None and not full:
                self._fresher.update(new)
        self._observe_clock(sweep.newest)
        self._publish(
            replace(
                self.data,
                measures=MappingProxyType(measures),
                cards_from_measures=MappingProxyType(
                    self._cards_from_measures(sweep.card_uids, full)
                ),
                clock_shift_seconds=self._nms_clock.shift_seconds,
            )
        )
        return INCOMPLETE if missing else SUCCESS

    # -- unknown cards ---------------------------------------------------------------------
    def _cards_from_measures(self, card_uids: set[str], full: bool) -> dict[str, Card]:
        """Cards of the new rows the inventory does not list, described by their measure rows;
        a card not known before brings the next inventory run forward. A full sweep also
        forgets those whose measures are gone."""
        current = self.data
        inventory, before = current.cards, current.cards_from_measures
        if not current.inventory_ok:
            return dict(before)  # before the first inventory every card would look unknown
        unknown = card_uids.difference(inventory)
        kept = unknown if full else before.keys() - inventory.keys()
        cards = {uid: card for uid, card in before.items() if uid in kept}
        added = []
        for uid in unknown:
            if uid in cards:
                continue
            card = self._decoder.card_from_measures(uid)
            if card is not None:
                cards[uid] = card
                added.append(uid)
        since_inventory = time.monotonic() - self._inventory_at
        if added or (cards and since_inventory > UNKNOWN_CARDS_INVENTORY_SECONDS):
            self._inventory_wanted.set()
        if added:
            log.info(
                "measures of cards the inventory does not list; exposed from the measure rows, "
                "inventory brought forward",
                extra={"fields": {"nms": self.name, "cards": sorted(added)[:20]}},
            )
        self._metrics.cards_from_measures.labels(self.name).set(len(cards))
        return cards

    # -- the NMS clock ---------------------------------------------------------------------
    def _observe_clock(self, newest: float | None) -> None:
        """``newest``: the newest timestamp of the rows just fetched."""
        tracker = self._nms_clock
        if not tracker.configured:
            local = to_local_wall(newest) if newest is not None else None
            server_now = self._client.server_time()
            if server_now is None and local is not None and not self._warned_no_date:
                self._warned_no_date = True
                log.warning(
                    "the NMS sends no usable Date header: its timestamps are read as UTC; "
                    "set nms.timezone to the NMS server's zone",
                    extra={"fields": {"nms": self.name}},
                )
            if tracker.observe(server_now, local):
                offset = tracker.offset()
                assert offset is not None  # observe() just set it
                log.info(
                    "nms clock offset worked out from its Date header and newest timestamps",
                    extra={
                        "fields": {
                            "nms": self.name,
                            "offset_seconds": offset.total_seconds(),
                            "utc_offset": _format_offset(offset.total_seconds()),
                            "hint": "set nms.timezone to the NMS server's zone to fix it",
                        }
                    },
                )
        self._show_clock_offset()

    def _show_clock_offset(self) -> None:
        offset = self._nms_clock.offset()
        if offset is not None:
            self._metrics.clock_offset.labels(self.name).set(offset.total_seconds())

    # -- helpers ---------------------------------------------------------------------------
    async def _fetch(
        self,
        endpoint: str,
        tier: TierConfig,
        decode: Callable[[bytes], tuple[list[T], int]],
        full_tier: str | None,
        fold: Callable[[list[T]], None] | None = None,
    ) -> _Fetched[T]:
        """The tier's rows, and how many rows a full sweep missed against ``*/count`` (0 when
        complete, unchecked, or not a full sweep: ``full_tier`` names the tier of one).

        With ``fold``, each page's rows go to it as the page comes in and are not kept (no
        list of every row for the garbage collector to walk); only their number is.
        """

        def page(body: bytes) -> Page[T]:
            try:
                rows, raw_count = decode(body)
            except MalformedPage as exc:
                raise MalformedReply(str(exc)) from exc
            if fold is None:
                return Page(rows=rows, raw_count=raw_count)
            fold(rows)
            return Page(rows=[], raw_count=raw_count, kept=len(rows))

        rows: list[T] = []
        served = kept = 0
        for filters in tier.filters or [{}]:
            sweep = await self._client.fetch_sweep(endpoint, filters, page)
            rows.extend(sweep.rows)
            served += sweep.raw_rows
            kept += sweep.kept_rows
        if full_tier is None or (tier.filters or [{}]) != FULL_FILTERS[endpoint]:
            return _Fetched(rows, kept, 0)
        missing = await self._missing_rows(endpoint, served, full_tier)
        return _Fetched(rows, kept, missing)

    async def _missing_rows(self, endpoint: str, served: int, tier: str) -> int:
        """Rows the NMS counts but the sweep did not get; one cheap request."""
        if not self._collect.check_counts:
            return 0
        count_endpoint, read = COUNTS[endpoint]
        try:
            expected = read(await self._client.get_json(count_endpoint))
        except NmsError:
            return 0  # logged by the client; the sweep itself went through
        missing = 0 if expected is None else max(expected - served, 0)
        self._metrics.missing_rows.labels(self.name, tier).set(missing)
        if missing:
            self._metrics.incomplete.labels(self.name, tier).inc()
            log.warning(
                "sweep incomplete: the NMS served fewer rows than it counts; unseen series "
                "keep their last values",
                extra={
                    "fields": {
                        "nms": self.name,
                        "tier": tier,
                        "endpoint": endpoint,
                        "received": served,
                        "counted": expected,
                        "missing": missing,
                    }
                },
            )
        return missing

    def _count_duplicates(self, resource: str, count: int) -> None:
        if count:  # the label set only appears once there was a duplicate, as before
            self._metrics.rows_invalid.labels(self.name, resource, DUPLICATE).inc(count)

    def _publish(self, data: NmsData) -> None:
        self.data = data
        self._on_publish(data)


def _alarm_key(alarm: Alarm) -> tuple[str, str, str]:
    return (alarm.oid, alarm.card_uid, alarm.name)


def _format_offset(seconds: float) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = int(abs(seconds)) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class _Fetched(Generic[T]):
    rows: list[T]  # none when the rows were folded as they came
    kept: int  # rows the decoder kept
    missing: int  # rows a full sweep missed against */count


class _MeasureSweep:
    """The rows of a measures run by uid, with their card uids and newest timestamp."""

    def __init__(self) -> None:
        self.measures: dict[str, Measure] = {}  # by uid; the later row wins
        self.card_uids: set[str] = set()
        self.newest: float | None = None  # the newest updatedAt of the rows

    def add(self, rows: list[Measure]) -> None:
        measures = self.measures
        for measure in rows:  # faster than update(zip(...)), which builds a pair per row
            measures[measure.uid] = measure
        self.card_uids.update(map(_CARD_UID, rows))
        stamps = [stamp for stamp in map(_UPDATED_AT, rows) if stamp is not None]
        if stamps:
            newest = max(stamps)
            if self.newest is None or newest > self.newest:
                self.newest = newest


_CARD_UID = operator.attrgetter("card_uid")
_UPDATED_AT = operator.attrgetter("updated_at")
