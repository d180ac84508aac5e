"""Self-metrics of the collection jobs."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge


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

    def prepare(self, nms: str, tiers: list[str]) -> None:
        """Create the label sets up front so they read 0 rather than being absent."""
        for tier in tiers:
            for result in ("success", "failure", "skipped"):
                self.runs.labels(nms=nms, tier=tier, result=result)

    def forget(self, nms: str, tiers: list[str]) -> None:
        for tier in tiers:
            for gauge in (self.duration, self.last_success):
                with contextlib.suppress(KeyError):
                    gauge.remove(nms, tier)
