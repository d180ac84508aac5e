"""Circuit breaker: opens after consecutive failed requests, refuses, then probes once."""

from __future__ import annotations

import asyncio

import pytest

from padtec_exporter.nms import BreakerOpenError, RequestFailed
from padtec_exporter.nms.errors import ServerError
from tests.nms.fake_nms import FakeNms, Request, Response
from tests.nms.helpers import STATE, Harness


async def fail_twice(h: Harness) -> None:
    """Two failed requests (each after all its retries): the threshold of the Harness."""
    for _ in range(2):
        with pytest.raises(ServerError):
            await h.client.get_json("measures/state")


async def test_opens_after_consecutive_failures_and_refuses_without_http(
    nms: FakeNms,
) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness()
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 0.0  # one failure is below the threshold
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 1.0
    calls, waits = route.call_count, len(h.sleeps.waits)
    with pytest.raises(BreakerOpenError):
        await h.client.get_json("measures/state")
    assert route.call_count == calls and len(h.sleeps.waits) == waits  # refused at once
    assert h.failures("breaker_open") == 1.0
    assert h.metric("padtec_nms_up") == 0.0


async def test_a_success_in_between_resets_the_count(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness()
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    route.respond(200, json=[])
    await h.client.get_json("measures/state")
    route.respond(500)
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 0.0


async def test_errors_of_an_answering_nms_do_not_open_it(nms: FakeNms) -> None:
    nms.get(STATE).respond(404)
    h = Harness()
    for _ in range(3):
        with pytest.raises(RequestFailed):
            await h.client.get_json("measures/state")
    assert h.metric("padtec_circuit_breaker_open") == 0.0


async def test_half_open_probe_failure_reopens_and_success_closes(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness(retry={"attempts": 1})
    await fail_twice(h)
    h.clock.now += 29  # not yet
    with pytest.raises(BreakerOpenError):
        await h.client.get_json("measures/state")
    h.clock.now += 2  # reset timeout passed: one probe goes out
    calls = route.call_count
    with pytest.raises(ServerError):
        await h.client.get_json("measures/state")
    assert route.call_count == calls + 1
    assert h.metric("padtec_circuit_breaker_open") == 1.0
    with pytest.raises(BreakerOpenError):  # re-opened for a full reset timeout
        await h.client.get_json("measures/state")
    h.clock.now += 31
    route.respond(200, json=[3])
    assert await h.client.get_json("measures/state") == [3]
    assert h.metric("padtec_circuit_breaker_open") == 0.0
    assert h.metric("padtec_nms_up") == 1.0
    assert await h.client.get_json("measures/state") == [3]  # closed: requests flow again


async def test_half_open_lets_exactly_one_probe_through(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness(retry={"attempts": 1}, max_concurrency=4)
    await fail_twice(h)
    h.clock.now += 31
    release = asyncio.Event()

    async def slow_success(_request: Request) -> Response:
        await release.wait()
        return Response(200, json=[])

    route.mock(side_effect=slow_success)
    calls = route.call_count
    probe = asyncio.create_task(h.client.get_json("measures/state"))
    await asyncio.sleep(0.01)  # the probe is in flight
    for _ in range(3):
        with pytest.raises(BreakerOpenError, match="probe"):
            await h.client.get_json("measures/state")
    release.set()
    assert await probe == []
    assert route.call_count == calls + 1
    assert h.metric("padtec_circuit_breaker_open") == 0.0


async def test_a_cancelled_probe_does_not_wedge_the_breaker(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(500)
    h = Harness(retry={"attempts": 1})
    await fail_twice(h)
    h.clock.now += 31

    async def hang(_request: Request) -> Response:
        await asyncio.Event().wait()
        raise AssertionError("never answered")

    route.mock(side_effect=hang)
    probe = asyncio.create_task(h.client.get_json("measures/state"))
    await asyncio.sleep(0.01)
    probe.cancel()  # e.g. the collection timed out
    with pytest.raises(asyncio.CancelledError):
        await probe
    route.mock(side_effect=None).respond(200, json=[])
    assert await h.client.get_json("measures/state") == []  # the next request may probe
    assert h.metric("padtec_circuit_breaker_open") == 0.0
