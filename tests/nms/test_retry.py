"""Retries: what is retried, how long the client waits, and what is never retried."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from padtec_exporter.nms import NmsError, RequestFailed
from padtec_exporter.nms.errors import RateLimited, ServerError
from padtec_exporter.nms.retry import RATE_LIMITED_ATTEMPTS_FACTOR, parse_retry_after
from tests.nms.fake_nms import FakeNms, Response, read_timeout, refused
from tests.nms.helpers import BASE, STATE, Harness


async def test_5xx_is_retried_with_exponential_backoff_and_bounded_jitter(
    nms: FakeNms,
) -> None:
    nms.get(STATE).mock(
        side_effect=[
            Response(500),
            Response(502),
            Response(503),
            Response(200, json=[1]),
        ]
    )
    h = Harness(retry={"attempts": 4, "initial_backoff_seconds": 0.5, "jitter_seconds": 0.1})
    assert await h.client.get_json("measures/state") == [1]
    assert len(h.sleeps.waits) == 3
    for wait, base in zip(h.sleeps.waits, [0.5, 1.0, 2.0], strict=True):
        assert base <= wait <= base + 0.1
    assert h.failures("http_5xx") == 3.0
    assert h.requests("500") == h.requests("502") == h.requests("503") == 1.0
    assert h.requests("200") == 1.0
    assert h.metric("padtec_nms_up") == 1.0


async def test_backoff_is_capped(nms: FakeNms) -> None:
    nms.get(STATE).respond(500)
    h = Harness(
        retry={
            "attempts": 5,
            "initial_backoff_seconds": 1,
            "max_backoff_seconds": 3,
            "jitter_seconds": 0,
        }
    )
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert h.sleeps.waits == [1.0, 2.0, 3.0, 3.0]


async def test_retries_end_in_request_failed_with_one_log_line(
    nms: FakeNms, caplog: pytest.LogCaptureFixture
) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness(breaker={"failure_threshold": 10})
    caplog.set_level(logging.INFO, logger="padtec_exporter.nms")
    with pytest.raises(RequestFailed) as caught:
        await h.client.get_json("measures/state")
    assert isinstance(caught.value, NmsError) and caught.value.reason == "http_5xx"
    assert route.call_count == 3
    assert h.failures("http_5xx") == 3.0
    assert h.metric("padtec_nms_up") == 0.0
    lines = [r for r in caplog.records if r.getMessage() == "nms request failed"]
    assert len(lines) == 1
    assert lines[0].fields["attempts"] == 3  # type: ignore[attr-defined]
    assert lines[0].fields["reason"] == "http_5xx"  # type: ignore[attr-defined]


async def test_timeouts_and_connection_errors_are_retried(nms: FakeNms) -> None:
    nms.get(STATE).mock(
        side_effect=[
            read_timeout(),
            refused(),
            Response(200, json=[]),
        ]
    )
    h = Harness()
    assert await h.client.get_json("measures/state") == []
    assert h.failures("timeout") == 1.0
    assert h.failures("connect") == 1.0
    assert h.requests("error") == 2.0
    assert h.requests("200") == 1.0
    assert len(h.sleeps.waits) == 2


@pytest.mark.parametrize("status", [400, 404, 405, 422])
async def test_other_4xx_are_not_retried(nms: FakeNms, status: int) -> None:
    route = nms.get(STATE).respond(status)
    h = Harness()
    with pytest.raises(RequestFailed, match=str(status)):
        await h.client.get_json("measures/state")
    assert route.call_count == 1 and h.sleeps.waits == []
    assert h.failures("http_4xx") == 1.0
    assert h.metric("padtec_circuit_breaker_open") == 0.0


async def test_redirects_are_not_followed(nms: FakeNms) -> None:
    nms.get(STATE).respond(302, headers={"Location": "http://elsewhere.test/login"})
    elsewhere = nms.get("http://elsewhere.test/login").respond(200, json=[])
    h = Harness()
    with pytest.raises(RequestFailed, match="redirects are not followed"):
        await h.client.get_json("measures/state")
    assert not elsewhere.called
    assert h.sleeps.waits == []


async def test_retry_after_in_seconds_or_as_a_date_is_honoured_and_capped(
    nms: FakeNms,
) -> None:
    in_5s = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    nms.get(STATE).mock(
        side_effect=[
            Response(429, headers={"Retry-After": "2"}),
            Response(429, headers={"Retry-After": in_5s}),
            Response(429, headers={"Retry-After": "3600"}),
            Response(429),  # no Retry-After: the ordinary backoff (4th try: 0.5 * 2**3)
            Response(200, json=[]),
        ]
    )
    h = Harness()
    await h.client.get_json("measures/state")
    assert h.sleeps.waits[0] == 2.0
    assert 3.0 <= h.sleeps.waits[1] <= 5.0
    assert h.sleeps.waits[2] == 10.0  # max_retry_after_seconds
    assert 4.0 <= h.sleeps.waits[3] <= 4.1  # capped by max_backoff_seconds=4, plus jitter
    assert h.failures("http_429") == 4.0


async def test_a_503_retry_after_is_honoured_too(nms: FakeNms) -> None:
    h = Harness()
    nms.get(STATE).mock(
        side_effect=[
            Response(503, headers={"Retry-After": "7"}),
            Response(200, json=[]),
        ]
    )
    await h.client.get_json("measures/state")
    assert h.sleeps.waits == [7.0]


async def test_persistent_rate_limiting_finally_fails(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(429, headers={"Retry-After": "1"})
    h = Harness()
    with pytest.raises(RateLimited):
        await h.client.get_json("measures/state")
    # Rate-limited tries get a larger budget: the NMS asked to slow down, not to give up.
    assert route.call_count == 3 * RATE_LIMITED_ATTEMPTS_FACTOR
    assert h.sleeps.waits == [1.0] * (route.call_count - 1)


async def test_a_retried_request_is_sent_again_unchanged(nms: FakeNms) -> None:
    route = nms.get(f"{BASE}/alarm/state").mock(side_effect=[Response(500), Response(200, json=[])])
    await Harness().client.get_json("alarm/state", {"alarmIsActive": "true"})
    first, second = (call.request for call in route.calls)
    assert first.url == second.url
    assert second.url.query["alarmIsActive"] == "true"


def test_parse_retry_after() -> None:
    now = 1_700_000_000.0
    at = format_datetime(datetime.fromtimestamp(now + 30, UTC), usegmt=True)
    past = format_datetime(datetime.fromtimestamp(now - 30, UTC), usegmt=True)
    assert parse_retry_after("12", lambda: now) == 12.0
    assert parse_retry_after(" 1.5 ", lambda: now) == 1.5
    assert parse_retry_after(at, lambda: now) == pytest.approx(30.0)
    assert parse_retry_after(past, lambda: now) == 0.0
    assert parse_retry_after("-4", lambda: now) == 0.0
    assert parse_retry_after("soon", lambda: now) is None
    assert parse_retry_after("nan", lambda: now) is None
    assert parse_retry_after(None, lambda: now) is None
