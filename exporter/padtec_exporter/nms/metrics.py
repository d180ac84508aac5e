"""The client's self-metrics, registered on the registry it is given."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class NmsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "padtec_nms_up",
            "1 when the last request to the NMS succeeded.",
            ["nms"],
            registry=registry,
        )
        self.requests = Counter(
            "padtec_nms_requests",
            "HTTP requests to the NMS by status code ('error' when no response came).",
            ["nms", "endpoint", "code"],
            registry=registry,
        )
        self.failures = Counter(
            "padtec_nms_request_failures",
            "Failed NMS request attempts by reason.",
            ["nms", "endpoint", "reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "padtec_nms_request_duration_seconds",
            "Latency of NMS requests.",
            ["nms", "endpoint"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.auth_renewals = Counter(
            "padtec_nms_auth_renewals",
            "Token re-reads or re-logins after the NMS refused a token.",
            ["nms"],
            registry=registry,
        )
        self.breaker_open = Gauge(
            "padtec_circuit_breaker_open",
            "1 while the circuit breaker refuses requests to the NMS.",
            ["nms"],
            registry=registry,
        )

    def prepare(self, nms: str) -> None:
        """Series that exist from the start, so dashboards show 0 rather than nothing."""
        self.auth_renewals.labels(nms)
        self.breaker_open.labels(nms).set(0)
