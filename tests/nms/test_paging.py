"""Paging: speculative windows, the last page, the guards against a misbehaving NMS."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from padtec_exporter.nms import MalformedReply, Page, PagingError, ResponseTooLarge
from tests.nms.fake_nms import FakeNms, Request, Response, Route
from tests.nms.helpers import STATE, Harness, page_number, rows_page


def view(total: int, size: int) -> Callable[[Request], Response]:
    """A well-behaved NMS holding rows 0..total-1."""

    def answer(request: Request) -> Response:
        assert int(request.url.query["size"]) == size
        start = page_number(request) * size
        return Response(200, json=list(range(start, min(start + size, total))))

    return answer


def requested_pages(route: Route) -> list[int]:
    return sorted(page_number(call.request) for call in route.calls)


async def test_rows_come_in_page_order_up_to_the_short_last_page(nms: FakeNms) -> None:
    route = nms.get(STATE).mock(side_effect=view(total=23, size=2))
    h = Harness(max_concurrency=4)
    rows = await h.client.fetch_all("measures/state", {"measureGroup": "POWER"}, rows_page)
    assert rows == list(range(23))
    assert all(call.request.url.query["measureGroup"] == "POWER" for call in route.calls)
    assert requested_pages(route)[:12] == list(range(12))  # page 11 holds row 22
    assert h.metric("padtec_nms_up") == 1.0


async def test_an_empty_page_ends_a_view_whose_total_is_a_multiple_of_size(
    nms: FakeNms,
) -> None:
    route = nms.get(STATE).mock(side_effect=view(total=8, size=2))
    h = Harness(max_concurrency=1)
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(8))
    assert requested_pages(route) == [0, 1, 2, 3, 4]  # page 4 is the empty one


async def test_a_single_short_page_costs_one_request_once_no_cap_can_hide_behind_it(
    nms: FakeNms,
) -> None:
    route = nms.get(STATE).mock(side_effect=view(total=1, size=2))
    client = Harness(max_concurrency=4).client
    # The first short page is the largest the NMS ever served: page 1 is asked once to tell
    # the end of the view from a cap on the page size.
    assert await client.fetch_all("measures/state", {}, rows_page) == [0]
    assert requested_pages(route) == [0, 1]
    assert await client.fetch_all("measures/state", {}, rows_page) == [0]
    assert route.call_count == 3  # known now: one request


def capped(total: int, cap: int) -> Callable[[Request], Response]:
    """An NMS that silently cuts ``size`` to ``cap`` (offsets follow the cut size)."""

    def answer(request: Request) -> Response:
        size = min(int(request.url.query["size"]), cap)
        start = page_number(request) * size
        return Response(200, json=list(range(start, min(start + size, total))))

    return answer


async def test_a_capped_page_size_is_detected_remembered_and_logged_once(
    nms: FakeNms, caplog: pytest.LogCaptureFixture
) -> None:
    route = nms.get(STATE).mock(side_effect=capped(total=23, cap=3))
    h = Harness(page_size=10, max_concurrency=2)
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(23))
    assert h.client.page_size == 3
    first = route.call_count
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(23))
    later = [call.request.url.query["size"] for call in route.calls][first:]
    assert set(later) == {"3"}  # no probe, no size 10 any more
    warnings = [r for r in caplog.records if "fewer rows per page" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].fields == {  # type: ignore[attr-defined]
        "nms": "t",
        "endpoint": "measures/state",
        "asked": 10,
        "served": 3,
    }


@pytest.mark.parametrize("total", [2, 7, 8, 9, 21])
async def test_the_window_wastes_at_most_concurrency_minus_one_requests(
    nms: FakeNms, total: int
) -> None:
    route = nms.get(STATE).mock(side_effect=view(total=total, size=2))
    h = Harness(max_concurrency=4)
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(total))
    needed = total // 2 + 1  # pages up to and including the first short one
    assert requested_pages(route)[:needed] == list(range(needed))
    assert needed <= route.call_count <= needed + 4 - 1


async def test_pages_are_fetched_concurrently_in_windows(nms: FakeNms) -> None:
    in_flight, peak = 0, 0

    async def slow(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.005)
        finally:  # pages past the end are cancelled here
            in_flight -= 1
        return view(total=40, size=2)(request)

    nms.get(STATE).mock(side_effect=slow)
    h = Harness(max_concurrency=4)
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(40))
    assert peak == 4


async def test_failures_of_pages_past_the_end_are_ignored(nms: FakeNms) -> None:
    async def answer(request: Request) -> Response:
        number = page_number(request)
        if number == 0:
            return Response(200, json=[0, 1])
        if number == 1:
            await asyncio.sleep(0.01)  # the short page comes last
            return Response(200, json=[2])
        return Response(404)  # pages 2.. do not exist on this NMS

    nms.get(STATE).mock(side_effect=answer)
    h = Harness(max_concurrency=4, retry={"attempts": 1})
    assert await h.client.fetch_all("measures/state", {}, rows_page) == [0, 1, 2]


async def test_a_failed_page_before_the_end_fails_the_view(nms: FakeNms) -> None:
    def answer(request: Request) -> Response:
        number = page_number(request)
        return Response(404) if number == 2 else view(total=20, size=2)(request)

    nms.get(STATE).mock(side_effect=answer)
    h = Harness(max_concurrency=4)
    with pytest.raises(Exception, match="HTTP 404"):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert h.metric("padtec_nms_up") == 0.0


async def test_a_page_error_is_retried_without_restarting_the_view(nms: FakeNms) -> None:
    failed_once: set[int] = set()

    def answer(request: Request) -> Response:
        number = page_number(request)
        if number == 3 and number not in failed_once:
            failed_once.add(number)
            return Response(503)
        return view(total=11, size=2)(request)

    route = nms.get(STATE).mock(side_effect=answer)
    h = Harness(max_concurrency=2)
    assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(11))
    assert requested_pages(route).count(0) == 1
    assert requested_pages(route).count(3) == 2


async def test_rows_dropped_by_the_decoder_do_not_end_the_view(nms: FakeNms) -> None:
    nms.get(STATE).mock(side_effect=view(total=5, size=2))

    def keep_even(body: bytes) -> Page[Any]:
        page = rows_page(body)
        return Page(rows=[r for r in page.rows if r % 2 == 0], raw_count=page.raw_count)

    rows = await Harness().client.fetch_all("measures/state", {}, keep_even)
    assert rows == [0, 2, 4]


@pytest.mark.parametrize(("total", "ok"), [(9, True), (10, False), (30, False)])
async def test_max_pages(nms: FakeNms, total: int, ok: bool) -> None:
    nms.get(STATE).mock(side_effect=view(total=total, size=2))
    h = Harness(max_pages=5, max_concurrency=3)
    if ok:  # five pages, the fifth short
        assert await h.client.fetch_all("measures/state", {}, rows_page) == list(range(total))
        return
    with pytest.raises(PagingError, match="max_pages=5"):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert h.failures("malformed") == 1.0
    assert h.metric("padtec_nms_up") == 0.0


async def test_an_nms_that_ignores_page_is_detected(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(200, json=[1, 2])
    h = Harness(max_concurrency=3)
    with pytest.raises(PagingError, match="ignore 'page'"):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert route.call_count <= 4  # stopped at the first window, not at max_pages
    assert h.failures("malformed") == 1.0


async def test_a_body_over_the_cap_is_refused_and_not_retried(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(200, content=b"[" + b"1," * 5000 + b"1]")
    h = Harness(max_response_bytes=1000)
    with pytest.raises(ResponseTooLarge):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert route.call_count == 1 and h.sleeps.waits == []
    assert h.failures("too_large") == 1.0
    assert h.metric("padtec_circuit_breaker_open") == 0.0


async def test_a_body_at_the_cap_is_accepted(nms: FakeNms) -> None:
    body = b"[1]"
    nms.get(STATE, params={"page": "0"}).respond(200, content=body)
    nms.get(STATE).respond(200, content=b"[]")
    h = Harness(max_response_bytes=len(body), auth={"token": "t"})
    rows = await h.client.fetch_all("measures/state", {}, rows_page)
    assert rows == [1]


async def test_a_malformed_page_is_retried_then_fails_as_malformed(nms: FakeNms) -> None:
    route = nms.get(STATE).mock(
        side_effect=[
            Response(200, text="<html>proxy error</html>"),
            Response(200, json={"not": "a list"}),
            Response(200, text='[{"truncated": '),
        ]
    )
    h = Harness()
    with pytest.raises(MalformedReply, match="measures/state"):
        await h.client.fetch_all("measures/state", {}, rows_page)
    assert route.call_count == 3
    assert h.failures("malformed") == 3.0
    assert len(h.sleeps.waits) == 2
    assert h.metric("padtec_nms_up") == 0.0


async def test_a_malformed_page_then_a_good_one_succeeds(nms: FakeNms) -> None:
    nms.get(STATE).mock(
        side_effect=[
            Response(200, text="<html>"),
            Response(200, json=[7]),
            Response(200, json=[]),  # page 1: a short first page is the end, not a cap
        ]
    )
    h = Harness()
    assert await h.client.fetch_all("measures/state", {}, rows_page) == [7]
    assert h.failures("malformed") == 1.0
    assert h.metric("padtec_nms_up") == 1.0


async def test_concurrency_never_exceeds_the_limit(nms: FakeNms) -> None:
    in_flight, peak = 0, 0

    async def counted(request: Request) -> Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        try:
            await asyncio.sleep(0.002)
        finally:  # pages past the end are cancelled here
            in_flight -= 1
        if request.method == "POST":
            return Response(200, json={"token": "Token jwt"})
        return view(total=40, size=2)(request)

    nms["login"].mock(side_effect=counted)
    nms.get(STATE).mock(side_effect=counted)
    h = Harness(max_concurrency=3)
    views = [h.client.fetch_all("measures/state", {}, rows_page) for _ in range(4)]
    results = await asyncio.gather(*views)
    assert all(rows == list(range(40)) for rows in results)
    assert peak == 3  # reached (windows run in parallel) and never exceeded, login included
    assert nms["login"].call_count == 1
