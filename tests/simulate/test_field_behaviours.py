"""What the simulator learnt from the field (../shared/evidence, issue 12)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tests.simulate.helpers import simulator_api
from tests.support.evidence_nms import evidence_rows

ROA1 = "ROA1-HA-E29001-TR"
STAMP = "%Y-%m-%d %H:%M:%S"


async def test_rows_of_an_roa1_have_the_captures_fields_order_and_types() -> None:
    """By default the simulator serves an ROA1 exactly as the capture shows it."""
    captured = evidence_rows()
    async with simulator_api() as api:
        rows = await api.all_rows("measures/state", size=500, cardModel=ROA1)
    card = rows[0]["cardUid"]
    served = [row for row in rows if row["cardUid"] == card]
    assert [row["measureKey"] for row in served] == [row["measureKey"] for row in captured]
    for got, want in zip(served, captured, strict=True):
        assert list(got) == list(want), got["measureName"]
        for key, value in want.items():
            assert type(got[key]) is type(value), (want["measureName"], key, got[key])
        assert got["measureName"] == want["measureName"] and got["port"] == want["port"]
    # A healthy card, as captured: every row says cardIsUp false, cardUpdate lags by hours.
    assert all(row["cardIsUp"] is False for row in rows)
    lag = datetime.strptime(served[0]["updatedAt"], STAMP) - datetime.strptime(
        served[0]["cardUpdate"], STAMP
    )
    assert lag >= timedelta(minutes=30)


async def test_healthy_cards_say_up_when_configured() -> None:
    async with simulator_api(card_is_up_on_healthy=True) as api:
        rows = await api.all_rows("measures/state", size=500)
    assert rows and all(row["cardIsUp"] is True for row in rows)


async def test_timestamps_are_local_time_of_the_zone_and_the_date_header_is_utc() -> None:
    # Newfoundland: UTC-3:30 in December, a non-whole-hour offset.
    async with simulator_api(timezone="America/St_Johns") as api:
        response, rows = await api.get("measures/state", page="0", size="5")
    date = parsedate_to_datetime(response.headers["Date"])
    assert abs((datetime.now(UTC) - date).total_seconds()) < 30
    local_now = date.astimezone(ZoneInfo("America/St_Johns")).replace(tzinfo=None)
    updated = datetime.strptime(rows[0]["updatedAt"], STAMP)
    assert abs((local_now - updated).total_seconds()) < 60  # the simulator started just now


async def _raw_get(url: str, path: str) -> tuple[bytes, bool]:
    """One HTTP/1.1 request on a fresh socket: (response head, did the server close it?)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    try:
        closed = await asyncio.wait_for(reader.read(1), timeout=3.0) == b""
    except TimeoutError:
        closed = False  # still open: kept alive
    writer.close()
    return head, closed


async def test_close_connections_closes_after_every_response() -> None:
    async with simulator_api(close_connections=True) as api:
        head, closed = await _raw_get(api.handle.url, "/healthz")
        head_api, closed_api = await _raw_get(api.handle.url, "/nms-api/v1/measures/count")
    assert b"connection: close" in head.lower() and closed
    assert b"connection: close" in head_api.lower() and closed_api  # also a 401


async def test_connections_are_kept_alive_by_default() -> None:
    async with simulator_api() as api:
        head, closed = await _raw_get(api.handle.url, "/healthz")
    assert b"connection: close" not in head.lower() and not closed


async def test_missing_rows_serves_fewer_rows_than_counted() -> None:
    async with simulator_api() as api:
        _, count = await api.get("measures/count")
        before = await api.all_rows("measures/state")
        await api.fault({"type": "missing_rows", "view": "measures", "rows": 5})
        after = await api.all_rows("measures/state")
        _, count_after = await api.get("measures/count")
        _, cards = await api.get("inventory/count")
        await api.fault({"type": "missing_rows", "view": "inventory", "rows": 2})
        inventory = await api.all_rows("inventory/state")
    assert len(before) == count == count_after
    assert len(after) == count - 5
    assert [row["measureUid"] for row in after] == [row["measureUid"] for row in before[:-5]]
    assert len(inventory) == cards - 2


async def test_an_added_card_serves_measures_before_its_inventory_row() -> None:
    async with simulator_api() as api:
        fault = await api.fault(
            {
                "type": "card_added",
                "site": "New site",
                "card_model": ROA1,
                "inventory_delay_seconds": 2.0,
            }
        )
        uid = fault["card_uid"]
        measures = await api.all_rows("measures/state", cardUid=uid)
        inventory = await api.all_rows("inventory/state", size=500)
        assert len(measures) == 10
        assert uid not in {row["cardUid"] for row in inventory}
        deadline = asyncio.get_running_loop().time() + 30
        while uid not in {row["cardUid"] for row in await api.all_rows("inventory/state", 500)}:
            assert asyncio.get_running_loop().time() < deadline, "inventory row never came"
            await asyncio.sleep(0.2)
