"""Issue 12 against the simulator over loopback HTTP: what the field does to the exporter.

The right clock with no zone configured, complete sweeps under a page-size cap, an honest gap
when rows go missing, cards whose measures precede their inventory row, a hung NMS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from padtec_exporter.simulate import SimulatorConfig
from tests.exporter.conftest import open_stack, value
from tests.exporter.test_against_simulator import MEASURE_FAMILIES, count

Samples = dict[str, list[tuple[dict[str, str], float]]]


def simulator(**options: object) -> SimulatorConfig:
    settings: dict[str, object] = {
        "seed": 11,
        "sites": 2,
        "cards_per_site": 4,
        "update_interval_seconds": 1.0,
        **options,
    }
    return SimulatorConfig(**settings)  # type: ignore[arg-type]


def card_ages(samples: Samples) -> list[float]:
    now = time.time()
    return [now - v for _, v in samples.get("padtec_card_last_update_timestamp_seconds", [])]


def everything_exposed(truth: dict[str, Any]) -> Callable[[Samples], bool]:
    return lambda s: count(s, *MEASURE_FAMILIES) == truth["measures"]


@pytest.mark.parametrize(
    "zone",
    [
        "America/Sao_Paulo",  # negative, whole hours
        "Asia/Tokyo",  # positive
        "Asia/Kolkata",  # +05:30
        "America/New_York",  # a DST zone (its offset of today)
        "Australia/Adelaide",  # a DST zone with half hours (+10:30 in summer)
    ],
)
async def test_with_no_timezone_configured_the_nms_clock_is_worked_out(zone: str) -> None:
    async with open_stack(simulator(timezone=zone)) as stack:
        expected = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
        assert expected is not None
        await stack.wait_for(
            lambda s: (
                value(s, "padtec_nms_clock_offset_seconds", nms="sim") is not None
                and bool(card_ages(s))
            )
        )
        samples = await stack.scrape()
        assert value(samples, "padtec_nms_clock_offset_seconds", nms="sim") == (
            expected.total_seconds()
        )
        ages = card_ages(samples)
        assert max(ages) < 60 and min(ages) > -60  # not hours off either way


async def test_a_configured_timezone_wins() -> None:
    zone = "Australia/Adelaide"  # +09:30 or +10:30 (DST): half hours and DST
    async with open_stack(simulator(timezone=zone), nms={"timezone": zone}) as stack:
        expected = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
        assert expected is not None
        await stack.wait_for(lambda s: bool(card_ages(s)))
        samples = await stack.scrape()
        assert value(samples, "padtec_nms_clock_offset_seconds", nms="sim") == (
            expected.total_seconds()
        )
        assert max(abs(age) for age in card_ages(samples)) < 60


async def test_a_page_size_cap_below_page_size_still_gets_every_series(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="padtec_exporter.nms.client")
    async with open_stack(
        simulator(max_page_size=7, default_page_size=5), nms={"page_size": 50}
    ) as stack:
        truth = await stack.truth()
        assert truth["measures"] > 50  # the cap matters: several capped pages
        await stack.wait_for(everything_exposed(truth))
        samples = await stack.scrape()
        assert value(samples, "padtec_collection_incomplete_total", tier="all_measures") == 0.0
        assert stack.exporter.pipelines["sim"].client.page_size == 7
    capped = [r for r in caplog.records if "fewer rows per page" in r.getMessage()]
    assert len(capped) == 1  # remembered: logged once, not per sweep


async def test_rows_missing_from_a_sweep_make_it_incomplete_and_drop_no_series(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with open_stack() as stack:
        truth = await stack.truth()
        await stack.wait_for(everything_exposed(truth))
        await stack.fault({"type": "missing_rows", "view": "measures", "rows": 5})
        await stack.wait_for(
            lambda s: (
                (value(s, "padtec_collection_incomplete_total", tier="all_measures") or 0) >= 2
            )
        )
        samples = await stack.scrape()
        assert count(samples, *MEASURE_FAMILIES) == truth["measures"]  # nothing dropped
        assert value(samples, "padtec_collection_missing_rows", tier="all_measures") == 5.0
        assert value(
            samples, "padtec_collection_runs_total", tier="all_measures", result="incomplete"
        ) == value(samples, "padtec_collection_incomplete_total", tier="all_measures")
        lines = [r for r in caplog.records if r.getMessage().startswith("sweep incomplete")]
        assert lines
        assert lines[-1].fields["missing"] == 5  # type: ignore[attr-defined]
        assert lines[-1].fields["counted"] == truth["measures"]  # type: ignore[attr-defined]
        await stack.clear_faults()
        await stack.wait_for(
            lambda s: value(s, "padtec_collection_missing_rows", tier="all_measures") == 0.0
        )


async def test_a_card_added_between_inventory_runs_is_exposed_within_a_critical_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="padtec_exporter.collect.collector")
    # An hourly inventory, the card's inventory row 5 s after its measures.
    async with open_stack(inventory=3600.0, critical=1.0, all_measures=3600.0) as stack:
        truth = await stack.truth()
        site = truth["sites"][0]
        await stack.fault(
            {
                "type": "card_added",
                "site": site,
                "card_model": "TM1200G-SA",
                "inventory_delay_seconds": 5,
            }
        )
        new_uid = next(
            uid for uid in (await stack.truth())["card_uids"] if uid not in truth["card_uids"]
        )
        started = time.monotonic()

        def exposed(s: Samples) -> bool:
            return any(
                labels["card_uid"] == new_uid
                for name in MEASURE_FAMILIES
                for labels, _ in s.get(name, [])
            )

        await stack.wait_for(exposed, timeout=10)
        assert time.monotonic() - started < 10
        samples = await stack.scrape()
        info = [
            labels for labels, _ in samples["padtec_card_info"] if labels["card_uid"] == new_uid
        ]
        assert info and info[0]["card_model"] == "TM1200G-SA" and info[0]["site"] == site
        assert info[0]["card_serial"] and info[0]["card_part"]
        assert value(samples, "padtec_cards_not_in_inventory", nms="sim") == 1.0
        # The inventory was brought forward (an hourly tier ran again within seconds).
        await stack.wait_for(
            lambda s: (
                (value(s, "padtec_collection_runs_total", tier="inventory", result="success") or 0)
                >= 2
            ),
            timeout=20,
        )
        # Once the NMS lists it, the card comes from the inventory (the inventory is asked
        # again every minute while cards are missing from it).
        await stack.wait_for(
            lambda s: value(s, "padtec_cards_not_in_inventory", nms="sim") == 0.0, timeout=90
        )
        assert any("does not list" in r.getMessage() for r in caplog.records)


async def test_a_hung_nms_shows_as_down_within_30_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The client's default timeouts and retries; the test stack's short tier intervals.
    defaults = {"retry": None, "breaker": None, "read_timeout_seconds": None}
    async with open_stack(nms=defaults) as stack:
        await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="sim") == 1.0)
        await stack.fault({"type": "outage", "mode": "hang"})
        hung_at = time.monotonic()
        await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="sim") == 0.0, timeout=30)
        assert time.monotonic() - hung_at <= 30
        assert any(r.getMessage() == "nms unreachable; retrying" for r in caplog.records)
        await stack.clear_faults()
        await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="sim") == 1.0, timeout=60)
