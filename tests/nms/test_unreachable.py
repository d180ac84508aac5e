"""A dead or hung NMS shows at its first failed attempt, not after every retry."""

from __future__ import annotations

import logging

import pytest

from tests.nms.fake_nms import FakeNms, Response, read_timeout, refused
from tests.nms.helpers import STATE, Harness, rows_page


async def test_the_first_timed_out_attempt_sets_nms_up_0_and_logs_one_line(
    nms: FakeNms, caplog: pytest.LogCaptureFixture
) -> None:
    nms.get(STATE).mock(
        side_effect=[
            Response(200, json=[1, 2]),
            Response(200, json=[]),
            read_timeout(),
            refused(),
            Response(200, json=[]),
        ]
    )
    caplog.set_level(logging.INFO, logger="padtec_exporter.nms.client")
    h = Harness(max_concurrency=1)  # one page at a time: the script above is in order
    up_while_retrying: list[float] = []

    async def sleep(seconds: float) -> None:  # runs between attempts
        up_while_retrying.append(h.metric("padtec_nms_up"))

    h.client._sleep = sleep
    assert await h.client.fetch_all("measures/state", {}, rows_page) == [1, 2]
    assert h.metric("padtec_nms_up") == 1.0
    assert await h.client.fetch_all("measures/state", {}, rows_page) == []
    assert up_while_retrying == [0.0, 0.0]  # down from the first failed attempt on
    assert h.metric("padtec_nms_up") == 1.0  # and up again once it answered
    lines = [r.getMessage() for r in caplog.records if r.name == "padtec_exporter.nms.client"]
    assert lines.count("nms unreachable; retrying") == 1  # one line per outage, not per try
    assert lines.count("nms answers again") == 1
