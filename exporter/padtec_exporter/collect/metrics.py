"""Self-metrics of the collection jobs."""

from __future__ import annotations

import contextlib

from prometheus_client import CollectorRegistry, Counter, Gauge


class CollectMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Gauge(
            "padtec_collection_duration_seconds",
            "Duration of the last run of a collection job.",
            ["nms", "job"],
            registry=registry,
        )
        self.last_success = Gauge(
            "padtec_collection_last_success_timestamp_seconds",
            "Unix time when a collection job last finished successfully.",
            ["nms", "job"],
            registry=registry,
        )
        self.runs = Counter(
            "padtec_collection_runs",
            "Collection job runs by result (success, failure, skipped).",
            ["nms", "job", "result"],
            registry=registry,
        )
        self.rows_invalid = Counter(
            "padtec_rows_invalid",
            "Rows or values from the NMS that were dropped, by resource and reason.",
            ["nms", "resource", "reason"],
            registry=registry,
        )

    def prepare(self, nms: str, jobs: list[str]) -> None:
        """Create the label sets up front so they read 0 rather than being absent."""
        for job in jobs:
            for result in ("success", "failure", "skipped"):
                self.runs.labels(nms=nms, job=job, result=result)

    def forget(self, nms: str, jobs: list[str]) -> None:
        for job in jobs:
            for gauge in (self.duration, self.last_success):
                with contextlib.suppress(KeyError):
                    gauge.remove(nms, job)
