"""Done-when 1 of issue 12: the real capture, served as a live NMS would, read right by default.

The stand-in (tests/support/evidence_nms.py) replays the ten captured rows with their
timestamps moved to now in a zone west of UTC, speaks HTTP/1.0 and closes every connection.
The exporter has no ``timezone`` configured: it must work the offset out itself.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx2
import pytest

from padtec_exporter.config import config_from_data
from padtec_exporter.exporter import Exporter
from tests.exporter.conftest import parse, value
from tests.support.evidence_nms import CAPTURE_ZONE, evidence_nms, evidence_rows
from tests.support.processes import free_port


@pytest.mark.parametrize("zone", [CAPTURE_ZONE, "Asia/Kolkata"])
async def test_the_captured_card_reads_fresh_with_the_offset_of_the_nms_zone(zone: str) -> None:
    rows = evidence_rows()
    card_uid = rows[0]["cardUid"]
    with evidence_nms(zone) as nms:
        listen = f"127.0.0.1:{free_port()}"
        settings: dict[str, Any] = {
            "name": "field",
            "base_url": nms.url,
            "auth": {"username": nms.username, "password": nms.password},
            "page_size": 10,  # the capture's own request: size=10
        }
        config = config_from_data(
            {
                "nms": [settings],  # no timezone
                "collect": {
                    "inventory": {"interval_seconds": 5},
                    "critical": {"interval_seconds": 1},
                    "all_measures": {"interval_seconds": 2},
                    "alarms": {"interval_seconds": 2},
                },
                "web": {"listen_address": listen},
            }
        )
        assert config.nms[0].timezone is None
        exporter = Exporter(config)
        await exporter.start()
        try:
            async with httpx2.AsyncClient(timeout=5.0) as http:
                deadline = time.monotonic() + 30
                while True:
                    samples = parse((await http.get(f"http://{listen}/metrics")).text)
                    if value(samples, "padtec_nms_clock_offset_seconds", nms="field") is not None:
                        break
                    assert time.monotonic() < deadline, "no clock offset in 30 s"
                    await asyncio.sleep(0.2)
        finally:
            await exporter.close()
    offset = datetime.now(UTC).astimezone(ZoneInfo(zone)).utcoffset()
    assert offset is not None
    assert value(samples, "padtec_nms_clock_offset_seconds", nms="field") == (
        offset.total_seconds()
    )
    age = time.time() - (
        value(samples, "padtec_card_last_update_timestamp_seconds", card_uid=card_uid) or 0.0
    )
    assert 0 <= age < 60  # the stand-in refreshes on a 30 s grid, like the NMS+
    # Exported as reported: cardIsUp false on a working amplifier, its pump power as captured.
    assert value(samples, "padtec_card_up", card_uid=card_uid) == 0.0
    assert value(samples, "padtec_power_dbm", card_uid=card_uid, measure_key="7260") == 26.549
    series = sum(
        1
        for name, found in samples.items()
        if name.startswith("padtec_") and name.endswith(("_dbm", "_amperes", "_volts", "_watts"))
        for labels, _ in found
        if labels.get("card_uid") == card_uid
    ) + len([1 for labels, _ in samples.get("padtec_temperature_celsius", [])])
    assert series == len(rows)  # all ten rows exposed
    assert value(samples, "padtec_nms_up", nms="field") == 1.0
