"""Maintenance jobs of the plain-PostgreSQL backend: partitions, aggregates, retention.

With TimescaleDB these are its own policies (schema.TIMESCALE) and only alarm clean-up runs here.
Aggregates are incremental: every insert notes the hours it touched in `aggregate_pending` (a
trigger, schema.PLAIN); a run recomputes exactly those hours that are complete, then the days
those hours belong to.
Samples that arrive late (Prometheus retrying after an outage) mark their hour again, so its
hourly and daily rows are recomputed on the next run. Recomputing is idempotent (upserts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import sql

from padtec_exporter.store.config import RetentionConfig

PARTITIONS_AHEAD = 2
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def day_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def hour_start(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def spans(starts: list[datetime], step: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """Sorted bucket starts → [from, to) ranges of consecutive buckets (one query each)."""
    first = last = None
    for start in starts:
        if last is not None and start == last + step:
            last = start
            continue
        if first is not None and last is not None:
            yield first, last + step
        first = last = start
    if first is not None and last is not None:
        yield first, last + step


async def ensure_partitions(conn: Any, now: datetime, days_back: int = 1) -> list[str]:
    """Daily partitions from `days_back` days ago to PARTITIONS_AHEAD days ahead."""
    created = []
    first = day_start(now) - timedelta(days=days_back)
    for offset in range(days_back + PARTITIONS_AHEAD + 1):
        start = first + timedelta(days=offset)
        name = f"measurements_p{start:%Y%m%d}"
        exists = await (await conn.execute("SELECT to_regclass(%s)", (name,))).fetchone()
        if exists[0] is None:
            await _create_partition(conn, name, start, start + DAY)
            created.append(name)
    return created


async def _create_partition(conn: Any, name: str, start: datetime, end: datetime) -> None:
    # Rows of that day may already sit in the default partition (samples from the future, or a
    # backlog older than the oldest partition); PostgreSQL refuses a new partition that overlaps
    # them, so they move first.
    table = sql.Identifier(name)
    await conn.execute(sql.SQL("CREATE TABLE {} (LIKE measurements INCLUDING ALL)").format(table))
    await conn.execute(
        sql.SQL(
            "WITH moved AS (DELETE FROM measurements_default WHERE time >= %s AND time < %s "
            "RETURNING series_id, time, value) INSERT INTO {} SELECT * FROM moved"
        ).format(table),
        (start, end),
    )
    await conn.execute(
        sql.SQL("ALTER TABLE measurements ATTACH PARTITION {} FOR VALUES FROM ({}) TO ({})").format(
            table, sql.Literal(start), sql.Literal(end)
        )
    )


async def aggregate(conn: Any, now: datetime) -> tuple[int, int]:
    """Hourly rows for complete hours that got samples, daily rows for complete days whose
    hours changed. Returns the numbers of hourly and daily rows written."""
    hours = await _take_pending(conn, "hour", hour_start(now))
    hourly = 0
    for start, end in spans(hours, HOUR):
        result = await conn.execute(
            "INSERT INTO measurements_hourly (series_id, bucket, min, max, avg, count) "
            "SELECT series_id, date_trunc('hour', time, 'UTC'), min(value), max(value), "
            "avg(value), count(*) FROM measurements WHERE time >= %s AND time < %s GROUP BY 1, 2 "
            "ON CONFLICT (series_id, bucket) DO UPDATE SET min = EXCLUDED.min, "
            "max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count",
            (start, end),
        )
        hourly += result.rowcount
    if hours:
        await conn.execute(
            "INSERT INTO aggregate_pending (resolution, bucket) "
            "SELECT DISTINCT 'day', date_trunc('day', h, 'UTC') FROM unnest(%s::timestamptz[]) h",
            (hours,),
        )
    daily = 0
    for start, end in spans(await _take_pending(conn, "day", day_start(now)), DAY):
        result = await conn.execute(
            "INSERT INTO measurements_daily (series_id, bucket, min, max, avg, count) "
            "SELECT series_id, date_trunc('day', bucket, 'UTC'), "
            "min(min), max(max), sum(avg * count) / sum(count), sum(count) "
            "FROM measurements_hourly WHERE bucket >= %s AND bucket < %s GROUP BY 1, 2 "
            "ON CONFLICT (series_id, bucket) DO UPDATE SET min = EXCLUDED.min, "
            "max = EXCLUDED.max, avg = EXCLUDED.avg, count = EXCLUDED.count",
            (start, end),
        )
        daily += result.rowcount
    return hourly, daily


async def _take_pending(conn: Any, resolution: str, before: datetime) -> list[datetime]:
    """Remove and return the pending buckets that are complete. Marks written by transactions
    still running are invisible here and stay for the next run, so no sample is missed."""
    rows = await (
        await conn.execute(
            "WITH taken AS (DELETE FROM aggregate_pending WHERE resolution = %s AND bucket < %s "
            "RETURNING bucket) SELECT DISTINCT bucket FROM taken ORDER BY bucket",
            (resolution, before),
        )
    ).fetchall()
    return [bucket for (bucket,) in rows]


async def apply_retention(
    conn: Any, now: datetime, retention: RetentionConfig, plain: bool
) -> dict[str, int]:
    removed: dict[str, int] = {}
    if plain:
        raw_cutoff = day_start(now) - timedelta(days=retention.raw_days)
        removed["partitions"] = await _drop_partitions(conn, raw_cutoff)
        result = await conn.execute(
            "DELETE FROM measurements_default WHERE time < %s", (raw_cutoff,)
        )
        removed["raw_rows"] = result.rowcount
        for table, days in (
            ("measurements_hourly", retention.hourly_days),
            ("measurements_daily", retention.daily_days),
        ):
            result = await conn.execute(
                sql.SQL("DELETE FROM {} WHERE bucket < %s").format(sql.Identifier(table)),
                (now - timedelta(days=days),),
            )
            removed[table] = result.rowcount
    result = await conn.execute(
        "DELETE FROM alarms WHERE status = 'CLEARED' AND ends_at < %s",
        (now - timedelta(days=retention.alarms_days),),
    )
    removed["alarms"] = result.rowcount
    return removed


async def _drop_partitions(conn: Any, cutoff: datetime) -> int:
    """Drop whole daily partitions that end before the cutoff (no row-by-row delete)."""
    rows = await (
        await conn.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'measurements' "
            "AND c.relname ~ '^measurements_p[0-9]{8}$'"
        )
    ).fetchall()
    dropped = 0
    for (name,) in rows:
        ends = datetime.strptime(name[-8:], "%Y%m%d").replace(tzinfo=UTC) + DAY
        if ends <= cutoff:
            await conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(name)))
            dropped += 1
    return dropped
