"""The client's metric families: names, types and labels are a contract (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import BreakerOpenError, NmsClient, NmsError, NmsMetrics
from tests.nms.fake_nms import FakeNms, Response, read_timeout
from tests.nms.helpers import BASE, STATE, Harness, rows_page

FAMILIES = {
    "padtec_nms_up": "gauge",
    "padtec_nms_requests": "counter",
    "padtec_nms_request_failures": "counter",
    "padtec_nms_request_duration_seconds": "histogram",
    "padtec_nms_auth_renewals": "counter",
    "padtec_circuit_breaker_open": "gauge",
}


async def busy_history(nms: FakeNms) -> Harness:
    """A client that saw success, 5xx, 429, timeouts, a renewal and an open breaker."""
    nms["login"].mock(
        side_effect=[
            Response(200, json={"token": "Token a"}),
            Response(200, json={"token": "Token b"}),
        ]
    )
    nms.get(STATE).mock(
        side_effect=[
            Response(401),
            Response(200, json=[1]),
            Response(200, json=[]),  # page 1: the short first page was the end
            Response(429, headers={"Retry-After": "1"}),
            read_timeout(),
            Response(200, json=[]),
        ]
    )
    nms.get(f"{BASE}/alarm/count").respond(500)
    h = Harness()
    await h.client.fetch_all("measures/state", {"measureGroup": "POWER"}, rows_page)
    await h.client.fetch_all("measures/state", {}, rows_page)
    for _ in range(3):
        with pytest.raises(NmsError):
            await h.client.get_json("alarm/count")
    return h


async def test_promtool_accepts_the_client_metrics(nms: FakeNms) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    h = await busy_history(nms)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=generate_latest(h.registry), capture_output=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


async def test_families_types_and_labels(nms: FakeNms) -> None:
    h = await busy_history(nms)
    text = generate_latest(h.registry).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert {name: families[name].type for name in FAMILIES} == FAMILIES
    endpoints = {
        s.labels["endpoint"]
        for s in families["padtec_nms_requests"].samples
        if "endpoint" in s.labels
    }
    assert endpoints == {"admin/login", "measures/state", "alarm/count"}  # no query strings
    assert h.requests("401") == 1.0
    assert h.requests("error") == 1.0
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert h.failures("http_429") == 1.0 and h.failures("timeout") == 1.0
    assert h.failures("http_5xx", endpoint="alarm/count") == 6.0  # 2 requests x 3 attempts
    assert h.failures("breaker_open", endpoint="alarm/count") == 1.0
    assert h.metric("padtec_circuit_breaker_open") == 1.0
    assert h.metric("padtec_nms_up") == 0.0
    durations = h.metric("padtec_nms_request_duration_seconds_count", endpoint="measures/state")
    assert durations == h.requests("200") + h.requests("401") + h.requests("429") + 1
    bounds = {
        s.labels["le"]
        for s in families["padtec_nms_request_duration_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert {"0.01", "0.1", "1.0", "10.0", "60.0", "+Inf"} <= bounds  # 10 ms .. 60 s


def test_series_that_exist_before_the_first_request() -> None:
    h = Harness()
    assert h.registry.get_sample_value("padtec_circuit_breaker_open", {"nms": "t"}) == 0.0
    assert h.registry.get_sample_value("padtec_nms_auth_renewals_total", {"nms": "t"}) == 0.0
    # No request yet: nothing is known about the NMS, so no up series claims anything.
    assert h.registry.get_sample_value("padtec_nms_up", {"nms": "t"}) is None


async def test_two_clients_share_one_metrics_object(nms: FakeNms) -> None:
    config = config_from_data(
        {
            "nms": [
                {"name": "a", "base_url": "http://nms.test:8181/nms-api", "auth": {"token": "x"}},
                {"name": "b", "base_url": "http://other.test/nms-api", "auth": {"token": "y"}},
            ]
        }
    )
    nms.get(STATE).respond(200, json=[])
    nms.get("http://other.test/nms-api/v1/measures/state").respond(503)
    registry = CollectorRegistry()
    metrics = NmsMetrics(registry)
    a = NmsClient(config.nms[0], metrics)
    b = NmsClient(config.nms[1], metrics, sleep=_no_wait)
    await a.get_json("measures/state")
    with pytest.raises(NmsError):
        await b.get_json("measures/state")
    assert registry.get_sample_value("padtec_nms_up", {"nms": "a"}) == 1.0
    assert registry.get_sample_value("padtec_nms_up", {"nms": "b"}) == 0.0
    await a.close()
    await b.close()


async def _no_wait(_seconds: float) -> None:
    return None


async def test_breaker_refusals_are_counted_per_endpoint(nms: FakeNms) -> None:
    nms.get(STATE).respond(500)
    h = Harness(retry={"attempts": 1})
    for _ in range(2):
        with pytest.raises(NmsError):
            await h.client.get_json("measures/state")
    with pytest.raises(BreakerOpenError):
        await h.client.get_json("inventory/state")
    assert h.failures("breaker_open", endpoint="inventory/state") == 1.0
    assert h.requests("500") == 2.0
