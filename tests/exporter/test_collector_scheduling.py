"""A tier's loop: job timeouts count as failures, and stopping always stops it."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from prometheus_client import CollectorRegistry

from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, TierConfig


def collector(registry: CollectorRegistry, timeout_seconds: float = 600.0) -> NmsCollector:
    # The jobs under test are passed in directly: client and decoder are never used.
    return NmsCollector(
        "sim",
        cast(Any, None),
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
