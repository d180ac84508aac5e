"""Shared pieces of the NMS client tests: HTTP faked in fake_nms.py, time with Sleeps and Clock."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import MalformedReply, NmsClient, NmsMetrics, Page
from tests.nms.fake_nms import Request

BASE = "http://nms.test:8181/nms-api/v1"
LOGIN = f"{BASE}/admin/login"
STATE = f"{BASE}/measures/state"
PASSWORD = "s3cr3t-password-value"
JWT = "eyJhbGciOiJIUzI1NiJ9.secret-jwt-1"


def rows_page(body: bytes) -> Page[Any]:
    """A decoder like the collector's: any JSON array, every element kept."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise MalformedReply(f"not JSON: {exc}") from exc
    if not isinstance(doc, list):
        raise MalformedReply("not an array")
    return Page(rows=doc, raw_count=len(doc))


def page_number(request: Request) -> int:
    return int(request.url.query["page"])


class Clock:
    """The breaker's monotonic clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """Records the waits the client asks for instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Harness:
    """A client for NMS 't' with small, test-friendly settings (override any key).

    Every client made is closed after its test (conftest.py), its HTTP session with it."""

    made: ClassVar[list[NmsClient]] = []

    def __init__(self, **nms: Any) -> None:
        settings: dict[str, Any] = {
            "name": "t",
            "base_url": "http://nms.test:8181/nms-api",
            "auth": {"username": "monitor", "password": PASSWORD},
            "page_size": 2,
            "max_concurrency": 2,
            "retry": {
                "attempts": 3,
                "initial_backoff_seconds": 0.5,
                "max_backoff_seconds": 4,
                "jitter_seconds": 0.1,
                "max_retry_after_seconds": 10,
            },
            "breaker": {"failure_threshold": 2, "reset_timeout_seconds": 30},
        }
        settings.update(nms)
        self.config = config_from_data({"nms": [settings]}).nms[0]
        self.registry = CollectorRegistry()
        self.sleeps = Sleeps()
        self.clock = Clock()
        self.client = NmsClient(
            self.config, NmsMetrics(self.registry), sleep=self.sleeps, clock=self.clock
        )
        Harness.made.append(self.client)

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, {"nms": "t", **labels})
        return 0.0 if value is None else value

    def failures(self, reason: str, endpoint: str = "measures/state") -> float:
        return self.metric("padtec_nms_request_failures_total", endpoint=endpoint, reason=reason)

    def requests(self, code: str, endpoint: str = "measures/state") -> float:
        return self.metric("padtec_nms_requests_total", endpoint=endpoint, code=code)
