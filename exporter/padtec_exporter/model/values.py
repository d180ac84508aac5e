"""Parsing of the scalar values the NMS sends: numbers as strings, timestamps without zone."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

# Reasons a value is dropped; each becomes a `reason` label of padtec_rows_invalid_total.
NULL_VALUE = "null_value"
EMPTY_VALUE = "empty_value"
NOT_A_NUMBER = "not_a_number"
NON_FINITE = "non_finite"
SENTINEL = "sentinel"
WRONG_TYPE = "wrong_type"
MISSING_FIELD = "missing_field"
BAD_TIMESTAMP = "bad_timestamp"
DUPLICATE = "duplicate"
# Measures that render to the same series (same family and labels): the renderer keeps one.
DUPLICATE_SERIES = "duplicate_series"


class ValueRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_number(raw: object, sentinels: frozenset[float] = frozenset()) -> float:
    """A finite float from ``"26.549"``, ``"26,549"``, ``26.5`` or ``26``; else ValueRejected."""
    if raw is None:
        raise ValueRejected(NULL_VALUE)
    if isinstance(raw, bool):
        raise ValueRejected(WRONG_TYPE)
    if isinstance(raw, int | float):
        try:
            value = float(raw)
        except OverflowError:  # a JSON integer of hundreds of digits
            raise ValueRejected(NON_FINITE) from None
    elif isinstance(raw, str):
        text = raw.strip()
        if not text:
            raise ValueRejected(EMPTY_VALUE)
        value = _parse_decimal(text)
    else:
        raise ValueRejected(WRONG_TYPE)
    if not math.isfinite(value):
        raise ValueRejected(NON_FINITE)
    if value in sentinels:
        raise ValueRejected(SENTINEL)
    return value


def _parse_decimal(text: str) -> float:
    # float() also accepts "1_000", "infinity" and "nan"; only plain decimals are numbers here.
    if "_" in text:
        raise ValueRejected(NOT_A_NUMBER)
    try:
        return float(text)
    except ValueError:
        pass
    if text.count(",") == 1 and "." not in text:  # decimal comma: "26,549"
        try:
            return float(text.replace(",", "."))
        except ValueError:
            pass
    raise ValueRejected(NOT_A_NUMBER)


def parse_bool(raw: object) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw != 0
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in ("true", "1", "yes", "up"):
            return True
        if lowered in ("false", "0", "no", "down"):
            return False
    return None


def text(raw: object) -> str:
    """A label-ready string: ``None`` → ``""``; integers keep no decimal point."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


class TimestampParser:
    """``YYYY-MM-DD HH:MM:SS`` (no zone, the NMS's local time) → Unix seconds.

    The same timestamp string repeats across thousands of rows of one poll, hence the cache.
    """

    # A full sweep of a large network brings tens of thousands of distinct timestamps (one
    # cardUpdate per card, updatedAt per refresh): parsing one costs ~30 µs, caching it ~100 B.
    def __init__(self, timezone: str = "UTC", cache_size: int = 65_536) -> None:
        self._zone = ZoneInfo(timezone)
        self._cache: dict[str, float | None] = {}
        self._cache_size = cache_size

    def __call__(self, raw: object) -> float | None:
        if not isinstance(raw, str):
            return None
        found = self._cache.get(raw, -1.0)
        if found != -1.0:
            return found
        value = self._parse(raw)
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[raw] = value
        return value

    def _parse(self, raw: str) -> float | None:
        text_value = raw.strip().replace("T", " ")
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
            try:
                parsed = datetime.strptime(text_value, fmt)
            except ValueError:
                continue
            return parsed.replace(tzinfo=self._zone).timestamp()
        try:  # ISO 8601 with an offset (capability `reload`)
            aware = datetime.fromisoformat(raw.strip())
        except ValueError:
            return None
        if aware.tzinfo is None:
            aware = aware.replace(tzinfo=self._zone)
        return aware.timestamp()
