"""The NMS's clock: its timestamps carry no zone, they are the server's local time.

Pure functions, no I/O. With no zone configured the NMS's UTC offset is worked out from the
HTTP ``Date`` header of its replies (UTC, RFC 9110) against the newest local timestamp it
served: the API refreshes measures every 30 s, so the newest ``updatedAt`` is "now" in local
time give or take a minute, and the difference rounded to a real offset (15-minute steps) is
the zone's offset. A configured zone always wins (it also knows DST transitions in the past).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

STEP = timedelta(minutes=15)  # every UTC offset in use is a multiple of 15 minutes
MAX_OFFSET = timedelta(hours=14)  # UTC+14 (Kiribati) to UTC-12
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f")


def parse_http_date(value: str | None) -> datetime | None:
    """The aware UTC time of an HTTP ``Date`` header, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000": RFC 5322's "UTC, source zone unknown"
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_local(raw: object) -> datetime | None:
    """A naive datetime from the NMS's ``YYYY-MM-DD HH:MM:SS`` (or with ``T``/fraction)."""
    if not isinstance(raw, str):
        return None
    text = raw.strip().replace("T", " ")
    for fmt in LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def round_offset(raw: timedelta) -> timedelta:
    """``raw`` rounded to the nearest 15-minute step."""
    steps = round(raw / STEP)
    return steps * STEP


def estimate_offset(server_now_utc: datetime, newest_local: datetime) -> timedelta | None:
    """The NMS's UTC offset (local = UTC + offset), or None when no real offset fits.

    ``newest_local`` (naive, NMS local time) lags the server's now by the refresh period, so
    rounding to the nearest 15 minutes is right for lags under 7.5 minutes. A result beyond
    ±14 h means the newest timestamp is stale (or the clock is wrong), not a zone.
    """
    now = server_now_utc.astimezone(UTC).replace(tzinfo=None)
    offset = round_offset(newest_local.replace(tzinfo=None) - now)
    if abs(offset) > MAX_OFFSET:
        return None
    return offset


def zone_offset(zone: tzinfo, at_utc: datetime) -> timedelta:
    """The UTC offset of ``zone`` at the instant ``at_utc`` (aware)."""
    return at_utc.astimezone(zone).utcoffset() or timedelta(0)


def to_utc(
    local: datetime, *, offset: timedelta | None = None, zone: tzinfo | None = None
) -> datetime:
    """An NMS local timestamp (naive) as aware UTC: the zone wins, then the offset, else UTC."""
    if zone is not None:
        return local.replace(tzinfo=zone).astimezone(UTC)
    return (local - (offset or timedelta(0))).replace(tzinfo=UTC)


def wall_seconds(local: datetime) -> float:
    """A naive local timestamp read as if it were UTC (the offset is applied later)."""
    return local.replace(tzinfo=UTC).timestamp()


def to_local_wall(seconds: float) -> datetime:
    """The inverse of ``wall_seconds``: the naive local datetime."""
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


@dataclass
class ClockTracker:
    """One NMS's clock: a configured zone, or the offset estimated from its replies.

    ``observe`` is fed after each sweep; it returns True when the offset changed (the caller
    logs it). ``shift_seconds`` is what to subtract from wall seconds (``wall_seconds``) to get
    Unix time: 0 with a configured zone, whose conversion happens while parsing.
    """

    zone_name: str | None = None
    estimated: timedelta | None = None

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.zone_name) if self.zone_name else None

    @property
    def configured(self) -> bool:
        return self.zone_name is not None

    def observe(self, server_now_utc: datetime | None, newest_local: datetime | None) -> bool:
        if self.configured or server_now_utc is None or newest_local is None:
            return False
        offset = estimate_offset(server_now_utc, newest_local)
        if offset is None or offset == self.estimated:
            return False
        self.estimated = offset
        return True

    def offset(self, at_utc: datetime | None = None) -> timedelta | None:
        """The offset in force: the zone's at ``at_utc`` (now by default), else the estimate."""
        zone = self.zone
        if zone is not None:
            return zone_offset(zone, at_utc or datetime.now(UTC))
        return self.estimated

    @property
    def shift_seconds(self) -> float:
        if self.configured or self.estimated is None:
            return 0.0
        return self.estimated.total_seconds()
