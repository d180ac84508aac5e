"""Maintenance jobs of the plain-PostgreSQL backend: partitions, aggregates, retention.

With TimescaleDB these are its own policies (schema.TIMESCALE) and only alarm clean-up runs here.
Aggregates are recomputed over a trailing window each run, so samples that arrive late
(Prometheus retrying after an outage) still land in the right hourly and daily rows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from padtec_exporter.store.config import RetentionConfig

LATE_DATA = timedelta(hours=3)
PARTITIONS_AHEAD = 2


def day_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def ensure_partitions(conn: Any, now: datetime, days_back: int = 1) -> list[str]:
    created = []
    first = day_start(now) - timedelta(days=days_back)
    for offset in range(days_back + PARTITIONS_AHEAD + 1):
        start = first + timedelta(days=offset)
        name = f"measurements_p{start:%Y%m%d}"
        exists = await (await conn.execute("SELECT to_regclass(%s)", (name,))).fetchone()
        if exists[0] is not None:
            continue
        end = start + timedelta(days=1)
        await conn.execute(  # name and bounds are built here, not taken from input
            f"CREATE TABLE {name} PARTITION OF measurements "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
        created.append(name)
    return created


async def aggregate(conn: Any, now: datetime) -> tuple[int, int]:
    """Hourly rows from raw samples, daily rows from hourly rows, up to the last full bucket."""
    hourly_to = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hourly_from = await _watermark(conn, "hourly", hourly_to - timedelta(days=2)) - LATE_DATA
    hourly = await conn.execute(
        "INSERT INTO measurements_hourly (series_id, bucket, min, max, avg, count) "
        "SELECT series_id, date_trunc('hour', time), min(value), max(value), avg(value), "
        "count(*) FROM measurements WHERE time >= %s AND time < %s GROUP BY 1, 2 "
        "ON CONFLICT (series_id, bucket) DO UPDATE SET min = EXCLUDED.min, "
        "max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count",
        (hourly_from, hourly_to),
    )
    await _set_watermark(conn, "hourly", hourly_to)
    daily_to = day_start(now)
    daily_from = day_start(
        await _watermark(conn, "daily", daily_to - timedelta(days=2)) - LATE_DATA
    )
    daily = await conn.execute(
        "INSERT INTO measurements_daily (series_id, bucket, min, max, avg, count) "
        "SELECT series_id, date_trunc('day', bucket AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "
        "min(min), max(max), sum(avg * count) / sum(count), sum(count) "
        "FROM measurements_hourly WHERE bucket >= %s AND bucket < %s GROUP BY 1, 2 "
        "ON CONFLICT (series_id, bucket) DO UPDATE SET min = EXCLUDED.min, "
        "max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count",
        (daily_from, daily_to),
    )
    await _set_watermark(conn, "daily", daily_to)
    return hourly.rowcount, daily.rowcount


async def apply_retention(
    conn: Any, now: datetime, retention: RetentionConfig, plain: bool
) -> dict[str, int]:
    removed: dict[str, int] = {}
    raw_cutoff = day_start(now) - timedelta(days=retention.raw_days)
    if plain:
        rows = await (
            await conn.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'measurements' "
                "AND c.relname ~ '^measurements_p[0-9]{8}$'"
            )
        ).fetchall()
        dropped = 0
        for (name,) in rows:
            ends = datetime.strptime(name[-8:], "%Y%m%d").replace(tzinfo=UTC) + timedelta(days=1)
            if ends <= raw_cutoff:
                await conn.execute(f"DROP TABLE {name}")
                dropped += 1
        removed["partitions"] = dropped
        result = await conn.execute(
            "DELETE FROM measurements_default WHERE time < %s", (raw_cutoff,)
        )
        removed["raw_rows"] = result.rowcount
        for table, days in (
            ("measurements_hourly", retention.hourly_days),
            ("measurements_daily", retention.daily_days),
        ):
            result = await conn.execute(
                f"DELETE FROM {table} WHERE bucket < %s",  # noqa: S608 (fixed table names)
                (now - timedelta(days=days),),
            )
            removed[table] = result.rowcount
    result = await conn.execute(
        "DELETE FROM alarms WHERE status = 'CLEARED' AND ends_at < %s",
        (now - timedelta(days=retention.alarms_days),),
    )
    removed["alarms"] = result.rowcount
    return removed


async def _watermark(conn: Any, name: str, default: datetime) -> datetime:
    row = await (
        await conn.execute("SELECT watermark FROM store_jobs WHERE name = %s", (name,))
    ).fetchone()
    return default if row is None else row[0]


async def _set_watermark(conn: Any, name: str, value: datetime) -> None:
    await conn.execute(
        "INSERT INTO store_jobs (name, watermark) VALUES (%s, %s) "
        "ON CONFLICT (name) DO UPDATE SET watermark = EXCLUDED.watermark",
        (name, value),
    )
