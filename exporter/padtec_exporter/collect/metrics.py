"""Self-metrics of the collection jobs."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from padtec_exporter.model.values import DUPLICATE_SERIES
from padtec_exporter.registry import forget_labelled


class CollectMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Gauge(
            "padtec_collection_duration_seconds",
            "Duration of the last run of a collection tier.",
            ["nms", "tier"],
            registry=registry,
        )
        self.last_success = Gauge(
            "padtec_collection_last_success_timestamp_seconds",
            "Unix time when a collection tier last finished a run successfully.",
            ["nms", "tier"],
            registry=registry,
        )
        self.runs = Counter(
            "padtec_collection_runs",
            "Collection tier runs by result (success, failure, skipped).",
            ["nms", "tier", "result"],
            registry=registry,
        )
        self.rows_invalid = Counter(
            "padtec_rows_invalid",
            "Rows or values from the NMS that were dropped, by resource and reason.",
            ["nms", "resource", "reason"],
            registry=registry,
        )

        self.in_flight = Gauge(
            "padtec_collection_in_flight_seconds",
            "Age of the tier's run in progress; 0 while none runs. Past the tier's interval "
            "the run is slow; past collect.stall_timeout_seconds without an NMS answer it is "
            "cancelled.",
            ["nms", "tier"],
            registry=registry,
        )
        self.incomplete = Counter(
            "padtec_collection_incomplete",
            "Full sweeps that received fewer rows than the NMS's */count: published as "
            "incomplete (unseen series keep their last values), never counted as a success.",
            ["nms", "tier"],
            registry=registry,
        )
        self.missing_rows = Gauge(
            "padtec_collection_missing_rows",
            "Rows the tier's last full sweep missed against the NMS's */count (0 when complete).",
            ["nms", "tier"],
            registry=registry,
        )
        self.cards_from_measures = Gauge(
            "padtec_cards_not_in_inventory",
            "Cards exposed from their measure rows because the inventory does not list them "
            "(yet); the next inventory run is brought forward.",
            ["nms"],
            registry=registry,
        )
        self.clock_offset = Gauge(
            "padtec_nms_clock_offset_seconds",
            "UTC offset of the NMS's zone-less timestamps: worked out from its Date header "
            "against its newest timestamps, or the configured timezone's.",
            ["nms"],
            registry=registry,
        )

    def prepare(self, nms: str, tiers: list[str]) -> None:
        """Create the label sets up front so they read 0 rather than being absent."""
        for tier in tiers:
            for result in ("success", "failure", "skipped", "incomplete"):
                self.runs.labels(nms=nms, tier=tier, result=result)
            self.incomplete.labels(nms, tier)
        self.cards_from_measures.labels(nms).set(0)

    def invalid_counter(self, nms: str) -> Callable[[str, str], None]:
        """Counts the rows or values of ``nms`` the decoder drops: (resource, reason)."""
        counter = self.rows_invalid

        def count(resource: str, reason: str) -> None:
            counter.labels(nms, resource, reason).inc()

        return count

    def duplicate_series(self, nms: str, count: int) -> None:
        if count:  # the label set only appears once there was a duplicate
            self.rows_invalid.labels(nms, "measures", DUPLICATE_SERIES).inc(count)

    def forget(self, nms: str) -> None:
        """Remove every series of ``nms`` (it left the configuration)."""
        forget_labelled(vars(self).values(), nms=nms)
