"""Unit tests of the NMS client with respx: HTTP is faked, every behaviour is the client's."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import (
    AuthError,
    BreakerOpenError,
    MalformedReply,
    NmsClient,
    NmsMetrics,
    Page,
    PagingError,
    RequestFailed,
    ResponseTooLarge,
)
from padtec_exporter.nms.errors import RateLimited, ServerError

BASE = "http://nms.test:8181/nms-api/v1"
SECRET = "s3cr3t-password-value"
STATE = f"{BASE}/measures/state"


def rows_page(body: bytes) -> Page[dict[str, Any]]:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise MalformedReply(str(exc)) from exc
    if not isinstance(doc, list):
        raise MalformedReply("not an array")
    return Page(rows=doc, raw_count=len(doc))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Harness:
    def __init__(self, **nms: Any) -> None:
        auth = nms.pop("auth", {"username": "monitor", "password": SECRET})
        settings = {
            "name": "t",
            "base_url": "http://nms.test:8181/nms-api",
            "auth": auth,
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

    def metric(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, {"nms": "t", **labels})
        return 0.0 if value is None else value


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{BASE}/admin/login").respond(200, json={"token": "Token jwt-1"})
        yield router


async def test_login_then_paged_rows_in_order(mock: respx.MockRouter) -> None:
    pages = {0: [1, 2], 1: [3, 4], 2: [5]}
    route = mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(200, json=pages.get(int(req.url.params["page"]), []))
    )
    h = Harness()
    assert await h.client.fetch_all("measures/state", {"measureGroup": "POWER"}, rows_page) == [
        1,
        2,
        3,
        4,
        5,
    ]
    first = route.calls[0].request
    assert first.headers["Authorization"] == "Token jwt-1"
    assert first.url.params["measureGroup"] == "POWER" and first.url.params["size"] == "2"
    login = json.loads(mock.routes[0].calls[0].request.content)
    assert login == {"username": "monitor", "password": SECRET, "clientId": "padtec-exporter"}
    assert h.metric("padtec_nms_up") == 1.0
    assert h.metric("padtec_nms_requests_total", endpoint="measures/state", code="200") >= 3


async def test_an_empty_page_ends_paging_when_the_total_is_a_multiple(
    mock: respx.MockRouter,
) -> None:
    pages = {0: [1, 2], 1: [3, 4]}
    mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(200, json=pages.get(int(req.url.params["page"]), []))
    )
    assert await Harness().client.fetch_all("measures/state", {}, rows_page) == [1, 2, 3, 4]


async def test_speculative_window_bounds_wasted_requests(mock: respx.MockRouter) -> None:
    route = mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(
            200, json=[int(req.url.params["page"])] * 2 if int(req.url.params["page"]) < 5 else [0]
        )
    )
    h = Harness(max_concurrency=4, page_size=2)
    rows = await h.client.fetch_all("measures/state", {}, rows_page)
    assert len(rows) == 11
    requested = sorted(int(c.request.url.params["page"]) for c in route.calls)
    assert requested[:6] == [0, 1, 2, 3, 4, 5]
    assert len(requested) - 6 <= 4 - 1  # at most max_concurrency - 1 pages past the last


async def test_concurrency_never_exceeds_the_limit(mock: respx.MockRouter) -> None:
    in_flight, peak = 0, 0

    async def slow(req: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        number = int(req.url.params["page"])
        return httpx.Response(200, json=[number, number] if number < 20 else [])

    mock.get(STATE).mock(side_effect=slow)
    h = Harness(max_concurrency=3)
    await asyncio.gather(*(h.client.fetch_all("measures/state", {}, rows_page) for _ in range(3)))
    assert peak == 3


async def test_configured_token_gets_its_prefix(mock: respx.MockRouter) -> None:
    route = mock.get(STATE).respond(200, json=[])
    await Harness(auth={"token": "abc"}).client.fetch_all("measures/state", {}, rows_page)
    await Harness(auth={"token": "Token abc"}).client.fetch_all("measures/state", {}, rows_page)
    assert [c.request.headers["Authorization"] for c in route.calls] == ["Token abc"] * 2
    assert not mock.routes[0].called  # no login with a token


async def test_token_file_is_read_again_after_a_401(mock: respx.MockRouter, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old\n")
    accepted = {"Token old"}
    route = mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(
            200 if req.headers["Authorization"] in accepted else 401, json=[]
        )
    )
    h = Harness(auth={"token_file": str(token_file)})
    await h.client.fetch_all("measures/state", {}, rows_page)
    accepted = {"Token new"}  # the operator rotates the token and the file
    token_file.write_text("new\n")
    await h.client.fetch_all("measures/state", {}, rows_page)
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Token old",
        "Token old",
        "Token new",
    ]
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0


@pytest.mark.parametrize("refusal", [401, 403])
async def test_login_again_after_a_refusal(mock: respx.MockRouter, refusal: int) -> None:
    mock.post(f"{BASE}/admin/login").mock(
        side_effect=[
            httpx.Response(200, json={"token": "Token jwt-1"}),
            httpx.Response(200, json={"token": "Token jwt-2"}),
        ]
    )
    route = mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(
            200 if req.headers["Authorization"] == "Token jwt-2" else refusal, json=[]
        )
    )
    h = Harness()
    assert await h.client.fetch_all("measures/state", {}, rows_page) == []
    assert len(route.calls) == 2
    assert h.sleeps.waits == []  # renewal is not a retry: no backoff, no attempt spent


async def test_a_renewed_token_refused_again_is_an_auth_failure_without_the_secret(
    mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    mock.get(STATE).respond(401, json={"error": "no"})
    h = Harness()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught:
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert SECRET not in str(caught.value)
    assert SECRET not in caplog.text and "jwt-1" not in caplog.text
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="auth")
        == 1.0
    )
    assert h.metric("padtec_nms_up") == 0.0
    assert h.metric("padtec_circuit_breaker_open") == 0.0  # the NMS answered


async def test_concurrent_refusals_renew_once(mock: respx.MockRouter) -> None:
    logins = mock.post(f"{BASE}/admin/login").mock(
        side_effect=[
            httpx.Response(200, json={"token": "Token jwt-1"}),
            httpx.Response(200, json={"token": "Token jwt-2"}),
            httpx.Response(200, json={"token": "Token jwt-3"}),
        ]
    )
    mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(
            200 if req.headers["Authorization"] != "Token jwt-1" else 401, json=[]
        )
    )
    h = Harness(max_concurrency=4)
    await h.client.get_json("measures/state")  # logs in with jwt-1 (refused, renewed to jwt-2)
    await asyncio.gather(*(h.client.get_json("measures/state") for _ in range(4)))
    assert logins.call_count == 2


async def test_5xx_is_retried_with_exponential_backoff(mock: respx.MockRouter) -> None:
    mock.get(STATE).mock(
        side_effect=[httpx.Response(500), httpx.Response(503), httpx.Response(200, json=[1])]
    )
    h = Harness()
    assert await h.client.fetch_all("measures/state", {}, rows_page) == [1]
    assert len(h.sleeps.waits) == 2
    assert 0.5 <= h.sleeps.waits[0] <= 0.6 and 1.0 <= h.sleeps.waits[1] <= 1.1
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="http_5xx")
        == 2.0
    )


async def test_timeouts_and_connection_errors_are_retried(mock: respx.MockRouter) -> None:
    mock.get(STATE).mock(
        side_effect=[
            httpx.ReadTimeout("slow"),
            httpx.ConnectError("refused"),
            httpx.Response(200, json=[]),
        ]
    )
    h = Harness()
    assert await h.client.fetch_all("measures/state", {}, rows_page) == []
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="timeout")
        == 1.0
    )
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="connect")
        == 1.0
    )
    assert h.metric("padtec_nms_requests_total", endpoint="measures/state", code="error") == 2.0


@pytest.mark.parametrize("status", [400, 404, 422])
async def test_other_4xx_are_not_retried(mock: respx.MockRouter, status: int) -> None:
    route = mock.get(STATE).respond(status)
    h = Harness()
    with pytest.raises(RequestFailed):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert route.call_count == 1 and h.sleeps.waits == []


async def test_retry_after_seconds_and_date_are_honoured_and_capped(mock: respx.MockRouter) -> None:
    in_3s = format_datetime(datetime.now(UTC) + timedelta(seconds=3), usegmt=True)
    mock.get(STATE).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": in_3s}),
            httpx.Response(429, headers={"Retry-After": "3600"}),
            httpx.Response(200, json=[]),
        ]
    )
    h = Harness()
    await h.client.fetch_all("measures/state", {}, rows_page)
    assert h.sleeps.waits[0] == 2.0
    assert 1.0 <= h.sleeps.waits[1] <= 3.0
    assert h.sleeps.waits[2] == 10.0  # max_retry_after_seconds


async def test_persistent_429_eventually_fails(mock: respx.MockRouter) -> None:
    route = mock.get(STATE).respond(429, headers={"Retry-After": "1"})
    h = Harness()
    with pytest.raises(RateLimited):
        await h.client.get_json("measures/state")
    assert route.call_count == 3 * 4  # attempts x the rate-limit budget


async def test_breaker_opens_refuses_then_probes(mock: respx.MockRouter) -> None:
    route = mock.get(STATE).respond(500)
    h = Harness()
    for _ in range(2):
        with pytest.raises(ServerError):
            await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 1.0
    calls = route.call_count
    with pytest.raises(BreakerOpenError):
        await h.client.get_json("measures/state")
    assert route.call_count == calls  # refused without touching the NMS
    h.clock.now += 31  # reset timeout passed: one probe goes out
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 1.0  # probe failed: open again
    with pytest.raises(BreakerOpenError):
        await h.client.get_json("measures/state")
    h.clock.now += 31
    route.respond(200, json=[])
    assert await h.client.get_json("measures/state") == []
    assert h.metric("padtec_circuit_breaker_open") == 0.0
    assert h.metric("padtec_nms_up") == 1.0


async def test_a_malformed_page_is_retried_then_fails(mock: respx.MockRouter) -> None:
    mock.get(STATE).mock(
        side_effect=[
            httpx.Response(200, text="<html>oops</html>"),
            httpx.Response(200, json={"not": "a list"}),
            httpx.Response(200, text='[{"truncated": '),
        ]
    )
    h = Harness()
    with pytest.raises(MalformedReply):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="malformed")
        == 3.0
    )


async def test_a_malformed_page_then_a_good_one_succeeds(mock: respx.MockRouter) -> None:
    mock.get(STATE).mock(
        side_effect=[httpx.Response(200, text="<html>"), httpx.Response(200, json=[7])]
    )
    assert await Harness().client.fetch_all("measures/state", {}, rows_page) == [7]


async def test_a_page_repeated_forever_is_detected(mock: respx.MockRouter) -> None:
    mock.get(STATE).respond(200, json=[1, 2])  # the NMS ignores `page`
    with pytest.raises(PagingError):
        await Harness().client.fetch_all("measures/state", {}, rows_page)


async def test_paging_stops_at_max_pages(mock: respx.MockRouter) -> None:
    mock.get(STATE).mock(
        side_effect=lambda req: httpx.Response(200, json=[int(req.url.params["page"]), 0])
    )
    with pytest.raises(PagingError):
        await Harness(max_pages=5).client.fetch_all("measures/state", {}, rows_page)


async def test_a_reply_over_the_size_cap_is_refused_not_retried(mock: respx.MockRouter) -> None:
    route = mock.get(STATE).respond(200, content=b"[" + b"1," * 5000 + b"1]")
    h = Harness(max_response_bytes=1000)
    with pytest.raises(ResponseTooLarge):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert route.call_count == 1
    assert (
        h.metric("padtec_nms_request_failures_total", endpoint="measures/state", reason="too_large")
        == 1.0
    )


async def test_promtool_accepts_the_client_metrics(mock: respx.MockRouter) -> None:
    import shutil
    import subprocess

    from prometheus_client import generate_latest

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    mock.get(STATE).mock(side_effect=[httpx.Response(500), httpx.Response(200, json=[])])
    h = Harness()
    await h.client.fetch_all("measures/state", {}, rows_page)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=generate_latest(h.registry), capture_output=True
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")
