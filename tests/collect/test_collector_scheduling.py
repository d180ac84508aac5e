"""A tier's loop: job timeouts count as failures, and stopping always stops it."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import Any, cast

import pytest
from prometheus_client import CollectorRegistry

from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, TierConfig


def collector(registry: CollectorRegistry, timeout_seconds: float = 600.0) -> NmsCollector:
    # The jobs under test are passed in directly: the decoder is never used, the client only
    # for its progress signal (when the NMS last answered).
    return NmsCollector(
        "sim",
        cast(Any, SimpleNamespace(last_response_at=time.monotonic())),
        cast(Any, None),
        CollectConfig(timeout_seconds=timeout_seconds),
        CollectMetrics(registry),
        lambda data: None,
    )


def runs(registry: CollectorRegistry, result: str) -> float:
    value = registry.get_sample_value(
        "padtec_collection_runs_total", {"nms": "sim", "tier": "alarms", "result": result}
    )
    return value or 0.0


async def test_a_cancel_arriving_as_the_job_finishes_still_stops_the_loop() -> None:
    # The job asks for its own loop to stop and returns at once: the cancellation lands while
    # the job's result is ready, the race in which asyncio.wait_for on 3.11 swallowed it.
    registry = CollectorRegistry()
    loop_task: asyncio.Task[None] | None = None
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        assert loop_task is not None
        loop_task.cancel()

    loop_task = asyncio.create_task(
        collector(registry)._loop("alarms", TierConfig(interval_seconds=0.05), job)
    )
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(loop_task), 2)
    assert calls == 1


async def test_a_job_past_its_timeout_is_a_failure_and_the_loop_goes_on() -> None:
    registry = CollectorRegistry()
    calls = 0

    async def job() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.sleep(30)

    task = asyncio.create_task(
        collector(registry, timeout_seconds=0.1)._loop(
            "alarms", TierConfig(interval_seconds=0.2), job
        )
    )
    try:
        for _ in range(100):
            if runs(registry, "success") >= 1:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert runs(registry, "failure") == 1 and runs(registry, "success") >= 1


class Progress:
    """The client's side the safety net uses: when the NMS last answered, and reset()."""

    def __init__(self) -> None:
        self.last_response_at = time.monotonic()
        self.resets = 0

    async def reset(self) -> None:
        self.resets += 1


async def test_a_run_without_progress_past_its_budget_is_cancelled_and_the_client_rebuilt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = CollectorRegistry()
    client = Progress()
    collect = CollectConfig(stall_timeout_seconds=0.5)
    nms = NmsCollector(
        "sim", cast(Any, client), cast(Any, None), collect, CollectMetrics(registry), print
    )
    cancelled = asyncio.Event()
    ages: list[float] = []

    async def wedged() -> None:
        try:
            while True:  # no answer from the NMS ever comes
                await asyncio.sleep(0.1)
                ages.append(
                    registry.get_sample_value(
                        "padtec_collection_in_flight_seconds",
                        {"nms": "sim", "tier": "all_measures"},
                    )
                    or 0.0
                )
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with asyncio.timeout(10):
        assert await nms.run_job("all_measures", wedged) is False
    assert cancelled.is_set()
    assert client.resets == 1
    assert (
        registry.get_sample_value(
            "padtec_collection_runs_total",
            {"nms": "sim", "tier": "all_measures", "result": "failure"},
        )
        == 1.0
    )
    assert ages and ages[-1] >= 0.4  # the run's age was visible while it hung
    idle = {"nms": "sim", "tier": "all_measures"}
    assert registry.get_sample_value("padtec_collection_in_flight_seconds", idle) == 0.0
    assert any("RunStalled" in str(getattr(r, "fields", "")) for r in caplog.records)


async def test_a_slow_run_that_keeps_getting_answers_is_not_cancelled() -> None:
    registry = CollectorRegistry()
    client = Progress()
    collect = CollectConfig(stall_timeout_seconds=0.5)
    nms = NmsCollector(
        "sim", cast(Any, client), cast(Any, None), collect, CollectMetrics(registry), print
    )

    async def slow_but_answered() -> None:
        for _ in range(15):  # 1.5 s in all, an answer every 0.1 s
            await asyncio.sleep(0.1)
            client.last_response_at = time.monotonic()

    assert await nms.run_job("all_measures", slow_but_answered) is True
    assert client.resets == 0
