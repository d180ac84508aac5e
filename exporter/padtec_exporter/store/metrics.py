"""The store's own metrics, on its own registry (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


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
            "Samples not stored, by reason (metric_not_kept, card_info, duplicate, "
            "stale_marker, invalid_sample, invalid_labels, label_too_long, too_many_labels, "
            "database_refused).",
            ["reason"],
            registry=registry,
        )
        self.refused = Counter(
            "padtec_store_requests_refused",
            "Requests answered with an error, by endpoint and reason.",
            ["endpoint", "reason"],
            registry=registry,
        )
        self.alert_values_altered = Counter(
            "padtec_store_alert_values_altered",
            "Alert label or annotation values changed before storing, by reason "
            "(control_characters replaced, too_long cut).",
            ["reason"],
            registry=registry,
        )
        self.alerts_dropped = Counter(
            "padtec_store_alerts_dropped",
            "Alerts of a webhook not stored, by reason (database_refused).",
            ["reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "padtec_store_write_duration_seconds",
            "Time to store one remote-write request.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.last_write = Gauge(
            "padtec_store_last_write_success_timestamp_seconds",
            "When a remote-write request was last stored.",
            registry=registry,
        )
        self.job_runs = Counter(
            "padtec_store_job_runs",
            "Maintenance job runs by task (partitions, aggregate, retention, silences) and result "
            "(success, failure, skipped: another receiver on the same database was running it).",
            # Not "job": Prometheus owns that label (it would become exported_job).
            ["task", "result"],
            registry=registry,
        )
