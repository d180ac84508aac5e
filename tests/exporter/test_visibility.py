"""What an operator sees of a running exporter (issue 15, finding 5): a status page per NMS,
a /readyz that says why, run summaries and failure streaks in the log, process metrics, and
exporter lines rather than library noise at debug level."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx2
import pytest

from padtec_exporter.collect import runlog
from padtec_exporter.exporter import Exporter
from padtec_exporter.logs import setup_logging
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.exporter.conftest import Stack, exporter_config
from tests.support.processes import free_port


async def test_landing_page_shows_each_nms_runs_and_series(stack: Stack) -> None:
    truth = await stack.truth()
    await stack.wait_for(lambda s: "padtec_power_dbm" in s)
    page = (await stack.http.get(stack.metrics_url.removesuffix("/metrics") + "/")).text
    assert "NMS sim" in page and f"{truth['cards']} cards" in page
    for job in ("inventory", "critical", "all_measures", "alarms"):
        assert f"<td>{job}</td>" in page
    assert "power_dbm: " in page and "Newest measurement time minus now" in page
    assert "admin" not in page  # the NMS password of this config


async def test_process_and_python_metrics_are_exposed(stack: Stack) -> None:
    samples = await stack.scrape()
    assert samples["process_resident_memory_bytes"][0][1] > 0
    assert "python_info" in samples and "python_gc_collections_total" in samples


@pytest.fixture
async def refused_stack() -> AsyncIterator[tuple[Exporter, str]]:
    """The exporter with a wrong NMS password: every run is refused."""
    handle = await start_simulator(
        SimulatorConfig(seed=7, sites=1, cards_per_site=2), "127.0.0.1:0"
    )
    listen = f"127.0.0.1:{free_port()}"
    config = exporter_config(handle.url, listen)
    config.nms[0].auth.password = "wrong"
    exporter = Exporter(config)
    await exporter.start()
    try:
        yield exporter, f"http://{listen}"
    finally:
        await exporter.close()
        await handle.close()


async def test_readyz_and_the_log_say_the_nms_refuses_the_login(
    refused_stack: tuple[Exporter, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="padtec_exporter")
    exporter, url = refused_stack
    async with httpx2.AsyncClient(timeout=5) as http:
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            ready = await http.get(f"{url}/readyz")
            if "inventory failing" in ready.text:
                break
            assert asyncio.get_running_loop().time() < deadline, ready.text
            await asyncio.sleep(0.2)
        # Several failed runs of the fast tiers meanwhile...
        while exporter.status()[0].jobs["critical"].streak < 3:
            await asyncio.sleep(0.2)
        page = (await http.get(f"{url}/")).text
    assert ready.status_code == 503
    assert "Auth" in ready.text or "401" in ready.text, ready.text
    assert "FAILED" in page and "failed in a row" in page
    # ...and a single warning per job for the whole streak, not one per run.
    starts = [r for r in caplog.records if r.getMessage() == "collection failing"]
    jobs = [r.__dict__["fields"]["tier"] for r in starts]
    assert sorted(jobs) == sorted(set(jobs)), jobs
    assert "wrong" not in caplog.text


def test_streak_end_and_summaries_are_logged_at_a_sensible_rate(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="padtec_exporter")
    now = [1000.0]
    log = runlog.RunLog("core", clock=lambda: now[0])
    for _ in range(10):  # 30 s tier: 10 runs in 5 minutes
        log.record("critical", True, 0.1, measures=5)
        now[0] += 30
    log.record("critical", False, 2.0, "NmsUnavailable: 503")
    log.record("critical", False, 2.0, "NmsUnavailable: 503")
    now[0] += 30
    log.record("critical", True, 0.1)
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert messages.count("collection summary") == 2  # at the first run, then 300 s later
    assert messages.count("collection failing") == 1
    assert messages.count("collection recovered") == 1
    recovered = next(r for r in caplog.records if r.getMessage() == "collection recovered")
    assert recovered.__dict__["fields"]["failed_runs"] == 2
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(debug) == 13  # one debug line per run


def test_debug_level_keeps_http_library_noise_out() -> None:
    setup_logging("text", "debug")
    try:
        assert logging.getLogger("padtec_exporter").getEffectiveLevel() == logging.DEBUG
        assert not logging.getLogger("httpcore2").isEnabledFor(logging.DEBUG)
        assert not logging.getLogger("httpx2").isEnabledFor(logging.INFO)
    finally:
        setup_logging("text", "info")
