"""The NMS clock: offsets from the Date header against local timestamps, and conversions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from padtec_exporter.nms.clock import (
    ClockTracker,
    estimate_offset,
    parse_http_date,
    parse_local,
    to_utc,
    wall_seconds,
)

NOW = datetime(2025, 12, 5, 0, 53, 10, tzinfo=UTC)


def local_now(zone: str, lag: timedelta = timedelta(seconds=25)) -> datetime:
    return (NOW - lag).astimezone(ZoneInfo(zone)).replace(tzinfo=None)


@pytest.mark.parametrize(
    ("zone", "hours"),
    [
        ("America/Manaus", -4.0),
        ("Asia/Tokyo", 9.0),
        ("Asia/Kolkata", 5.5),
        ("Australia/Adelaide", 10.5),  # DST in December: +10:30
        ("Asia/Kathmandu", 5.75),
        ("America/Sao_Paulo", -3.0),
        ("UTC", 0.0),
    ],
)
def test_offset_of_real_zones(zone: str, hours: float) -> None:
    assert estimate_offset(NOW, local_now(zone)) == timedelta(hours=hours)


def test_the_evidence_reads_utc_minus_4() -> None:
    # updatedAt 22:35:38 of Dec 4 read with a token issued at 00:53 UTC on Dec 5 (the capture
    # came some minutes after the token, hence a lag of minutes is tolerated within 7.5).
    newest = parse_local("2025-12-04 22:35:38")
    assert newest is not None
    server_now = datetime(2025, 12, 5, 2, 39, 0, tzinfo=UTC)
    assert estimate_offset(server_now, newest) == timedelta(hours=-4)


def test_a_stale_newest_timestamp_gives_no_offset() -> None:
    assert estimate_offset(NOW, local_now("UTC", lag=timedelta(days=2))) is None


def test_http_date() -> None:
    assert parse_http_date("Fri, 05 Dec 2025 00:53:10 GMT") == NOW
    assert parse_http_date(None) is None
    assert parse_http_date("yesterday") is None


def test_conversions() -> None:
    local = parse_local("2025-12-04 20:53:10")
    assert local is not None
    assert to_utc(local, offset=timedelta(hours=-4)) == NOW
    assert to_utc(local, zone=ZoneInfo("America/Manaus")) == NOW
    assert to_utc(local) == local.replace(tzinfo=UTC)
    assert wall_seconds(local) - NOW.timestamp() == -4 * 3600
    assert parse_local("2025-12-04T20:53:10.5") == local.replace(microsecond=500000)
    assert parse_local(17) is None


def test_tracker_estimates_and_reports_changes() -> None:
    tracker = ClockTracker()
    assert tracker.offset() is None and tracker.shift_seconds == 0.0
    assert tracker.observe(NOW, local_now("Asia/Kolkata"))
    assert tracker.shift_seconds == 5.5 * 3600
    assert not tracker.observe(NOW, local_now("Asia/Kolkata"))  # unchanged: not reported
    assert tracker.observe(NOW, local_now("UTC"))
    assert tracker.offset() == timedelta(0)


def test_a_configured_zone_wins() -> None:
    tracker = ClockTracker("America/Sao_Paulo")
    assert not tracker.observe(NOW, local_now("Asia/Tokyo"))
    assert tracker.offset(NOW) == timedelta(hours=-3)
    assert tracker.shift_seconds == 0.0  # the decoder converts with the zone itself
