"""The client's self-metrics, registered on the registry it is given (never the global one).

One ``NmsMetrics`` serves every NMS of an exporter (series carry ``nms``); each client records
through an ``NmsRecorder`` bound to its NMS name.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from padtec_exporter.registry import forget_labelled

# Observed NMS latency is ~70-120 ms per page; timeouts go up to a minute.
DURATION_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class NmsMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.up = Gauge(
            "padtec_nms_up",
            "1 when the last request to the NMS succeeded, 0 when it finally failed.",
            ["nms"],
            registry=registry,
        )
        self.requests = Counter(
            "padtec_nms_requests",
            "HTTP requests to the NMS (every attempt) by status code, 'error' when none came.",
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
            "Duration of NMS HTTP requests, body included.",
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

    def recorder(self, nms: str) -> NmsRecorder:
        return NmsRecorder(self, nms)

    def forget(self, nms: str) -> None:
        """Remove every series of ``nms`` (it left the configuration)."""
        forget_labelled(vars(self).values(), nms=nms)


class NmsRecorder:
    """The metrics of one NMS. Series that exist from the start show 0 rather than nothing."""

    def __init__(self, metrics: NmsMetrics, nms: str) -> None:
        self._metrics = metrics
        self._nms = nms
        metrics.auth_renewals.labels(nms)
        metrics.breaker_open.labels(nms).set(0)

    def attempt(self, endpoint: str, code: str, seconds: float) -> None:
        """One HTTP exchange; ``code`` is the status or ``error`` when no response came."""
        self._metrics.requests.labels(self._nms, endpoint, code).inc()
        self._metrics.duration.labels(self._nms, endpoint).observe(seconds)

    def failure(self, endpoint: str, reason: str) -> None:
        self._metrics.failures.labels(self._nms, endpoint, reason).inc()

    def renewal(self) -> None:
        self._metrics.auth_renewals.labels(self._nms).inc()

    def up(self, ok: bool) -> None:
        self._metrics.up.labels(self._nms).set(int(ok))

    def breaker_open(self, is_open: bool) -> None:
        self._metrics.breaker_open.labels(self._nms).set(int(is_open))
