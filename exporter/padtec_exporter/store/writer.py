"""Write decoded remote-write series into PostgreSQL: idempotent, batched with binary COPY."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import struct
import time
from collections.abc import Callable, Container
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import psycopg

from padtec_exporter.store.database import Database, DataRefused
from padtec_exporter.store.remote_write import Sample, decode_labels, is_stale_marker

CARD_INFO = "padtec_card_info"
CARD_REFRESH_SECONDS = 3600.0  # how often a known card's last_seen is written again
_DROPPED = -1
_CARD = -2
_REFUSED_REMEMBERED = 10_000
# Reasons that mean "this sample can never be stored": a batch holding nothing else is
# answered 400 so Prometheus drops it rather than retrying it forever.
UNSTORABLE = frozenset(
    {"invalid_labels", "label_too_long", "too_many_labels", "database_refused", "invalid_sample"}
)
_T = TypeVar("_T")
log = logging.getLogger(__name__)
_SERIES_COLUMNS = ("nms", "site", "card_uid", "measure", "measure_key", "measure_subkey", "port")

# Binary COPY: a header, then per row the field count and (length, value) per field, big-endian;
# timestamptz is microseconds since 2000-01-01 UTC.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_CHUNK_ROWS = 65_536
_ROW = struct.Struct(">hiqiqid")
_PG_EPOCH_MS = 946_684_800_000
# Samples outside these times (1970 to 2200) are refused rather than overflowing the format.
_MIN_MS, _MAX_MS = 0, 7_258_118_400_000


@dataclass
class WriteResult:
    received: int = 0
    written: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count


@dataclass
class Rows:
    """One batch as a binary COPY stream."""

    copy_data: list[bytes] = field(default_factory=lambda: [_COPY_HEADER])

    def __len__(self) -> int:
        return len(self.copy_data) - 1

    def chunks(self) -> list[bytes]:
        """The stream as a few large pieces; the row list is emptied. Piece by piece, so
        another thread (the event loop) gets the GIL in between: joining or freeing a
        million rows in one C call would hold it for a quarter of a second."""
        data = self.copy_data
        pieces = [b"".join(data[i : i + _CHUNK_ROWS]) for i in range(0, len(data), _CHUNK_ROWS)]
        release(data)
        pieces.append(_COPY_TRAILER)
        return pieces


def _finish(samples: list[Sample], rows: Rows) -> list[bytes]:
    release(samples)
    return rows.chunks()


def release(items: list[Any]) -> None:
    """Empty a large list in slices (see Rows.chunks)."""
    while items:
        del items[-_CHUNK_ROWS:]


class Offload(Protocol):
    """Runs CPU-bound work somewhere else than the event loop (the service's thread)."""

    async def __call__(self, work: Callable[[], _T]) -> _T: ...


async def inline(work: Callable[[], _T]) -> _T:
    return work()


@dataclass(frozen=True)
class LabelLimits:
    name_bytes: int = 128
    value_bytes: int = 1024
    count: int = 64


class SampleWriter:
    def __init__(
        self,
        db: Database,
        metrics: list[str],
        limits: LabelLimits | None = None,
        offload: Offload = inline,
    ) -> None:
        self._db = db
        self._metrics = set(metrics)
        self._limits = limits or LabelLimits()
        self._offload = offload
        # label run → series id (once its row is committed), or _DROPPED / _CARD.
        self._ids: dict[bytes, int] = {}
        self._cards_seen: dict[bytes, float] = {}
        # label run → reason, for series refused for good (bounded: cleared when full).
        self._refused: dict[bytes, str] = {}

    @property
    def known_labels(self) -> Container[bytes]:
        """Label runs already decoded and validated (the decoder's fast path)."""
        return self._ids

    async def write(self, samples: list[Sample]) -> WriteResult:
        """Store a batch; ``samples`` is emptied. PayloadError (bad labels) before any
        database work; DatabaseUnavailable when it cannot be stored now; DataRefused when the
        database refuses the samples themselves. Series that cannot be stored are dropped and
        counted, the rest is stored. Returns only once committed."""
        result = WriteResult(received=len(samples))
        refused: dict[bytes, str] = {}
        new_series, cards = await self._offload(lambda: self._sort_out(samples, result, refused))
        if new_series or cards:
            await self._register_series_and_cards(new_series, cards, refused)
        rows = await self._offload(lambda: self._rows(samples, result, refused))
        count = len(rows)
        # The samples are not needed any more: freed on the worker thread, not on the loop.
        chunks = await self._offload(lambda: _finish(samples, rows))
        if count:
            result.written = await self._store(chunks)
            result.drop("duplicate", count - result.written)
        return result

    async def _register_series_and_cards(
        self,
        new_series: dict[bytes, dict[str, str]],
        cards: dict[bytes, dict[str, str]],
        refused: dict[bytes, str],
    ) -> None:
        try:
            await self._register_batch(new_series, cards)
        except DataRefused:
            # One of them is refused for good (too long for an index, bad bytes...): find it
            # by registering them one by one; the others go on.
            for key, labels in new_series.items():
                try:
                    await self._register_batch({key: labels}, {})
                except DataRefused as exc:
                    self._refuse(key, labels, "database_refused", refused, sqlstate=exc.sqlstate)
            for key, card in cards.items():
                try:
                    await self._register_batch({}, {key: card})
                except DataRefused as exc:
                    _log_refused(card, "database_refused", {"sqlstate": exc.sqlstate}, "card")

    async def _register_batch(
        self, new_series: dict[bytes, dict[str, str]], cards: dict[bytes, dict[str, str]]
    ) -> None:
        # Its own transaction: a series row without samples is harmless, and the samples'
        # transaction can then be repeated on its own.
        async def register(conn: psycopg.AsyncConnection) -> dict[bytes, int]:
            async with conn.transaction():
                ids = await self._register(conn, new_series)
                await self._upsert_cards(conn, list(cards.values()))
            return ids

        ids = await self._db.run(register)
        # Only now: a rolled-back series id or card must not be remembered as written.
        self._ids.update(ids)
        self._cards_seen.update(dict.fromkeys(cards, time.monotonic()))

    def _refuse(
        self,
        key: bytes,
        labels: dict[str, str],
        reason: str,
        refused: dict[bytes, str],
        **detail: object,
    ) -> None:
        refused[key] = reason
        if key in self._refused:
            return  # logged when first seen
        if len(self._refused) >= _REFUSED_REMEMBERED:
            self._refused.clear()
        self._refused[key] = reason
        _log_refused(labels, reason, detail)

    def _label_problem(self, labels: dict[str, str]) -> tuple[str, dict[str, object]] | None:
        limits = self._limits
        if len(labels) > limits.count:
            return "too_many_labels", {"labels": len(labels), "limit": limits.count}
        for name, value in labels.items():
            if "\x00" in name or "\x00" in value:
                return "invalid_labels", {"label": name[:64]}  # PostgreSQL text cannot hold NUL
            if len(name.encode()) > limits.name_bytes:
                return "label_too_long", {"label": name[:64], "limit": limits.name_bytes}
            size = len(value.encode())
            if size > limits.value_bytes:
                return "label_too_long", {"label": name, "bytes": size, "limit": limits.value_bytes}
        return None

    async def _store(self, chunks: list[bytes]) -> int:
        return await self._db.run(lambda conn: self._store_on(conn, chunks))

    @staticmethod
    async def _store_on(conn: psycopg.AsyncConnection, chunks: list[bytes]) -> int:
        """One COPY straight into `measurements`: a single statement, so its own transaction
        (the connection is in autocommit), one round trip. If any row is already there (a batch
        resent after a timeout), again through a staging table with ON CONFLICT DO NOTHING."""
        try:
            async with conn.cursor() as cur:
                async with cur.copy(
                    "COPY measurements (series_id, time, value) FROM STDIN (FORMAT binary)"
                ) as copy:
                    for chunk in chunks:
                        await copy.write(chunk)
                return int(cur.rowcount)
        except psycopg.errors.UniqueViolation:
            pass
        async with conn.transaction(), conn.cursor() as cur:
            await cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS staging "
                "(series_id bigint, time timestamptz, value float8) ON COMMIT DELETE ROWS"
            )
            async with cur.copy("COPY staging FROM STDIN (FORMAT binary)") as copy:
                for chunk in chunks:
                    await copy.write(chunk)
            await cur.execute(
                "INSERT INTO measurements (series_id, time, value) "
                "SELECT series_id, time, value FROM staging ON CONFLICT DO NOTHING"
            )
            return int(cur.rowcount)

    def _sort_out(
        self, samples: list[Sample], result: WriteResult, refused: dict[bytes, str]
    ) -> tuple[dict[bytes, dict[str, str]], dict[bytes, dict[str, str]]]:
        """Series seen for the first time (to register) and cards due for an upsert; series
        whose labels cannot be stored go to ``refused`` (their samples are counted in _rows)."""
        new_series: dict[bytes, dict[str, str]] = {}
        cards: dict[bytes, dict[str, str]] = {}
        ids = self._ids
        now = time.monotonic()
        for label_run, _, _ in samples:
            known = ids.get(label_run)
            if known is None:
                if label_run in new_series or label_run in refused:
                    continue
                reason = self._refused.get(label_run)
                if reason is not None:
                    refused[label_run] = reason
                    continue
                labels = decode_labels(label_run)
                problem = self._label_problem(labels)
                if problem is not None:
                    self._refuse(label_run, labels, problem[0], refused, **problem[1])
                    continue
                name = labels.get("__name__", "")
                if name == CARD_INFO:
                    ids[label_run] = known = _CARD
                elif name in self._metrics:
                    new_series[label_run] = labels
                    continue
                else:
                    ids[label_run] = known = _DROPPED
            if known == _CARD:
                if now - self._cards_seen.get(label_run, -1e9) > CARD_REFRESH_SECONDS:
                    cards[label_run] = decode_labels(label_run)
                result.drop("card_info")
            elif known == _DROPPED:
                result.drop("metric_not_kept")
        return new_series, cards

    def _rows(self, samples: list[Sample], result: WriteResult, refused: dict[bytes, str]) -> Rows:
        rows = Rows()
        append, pack, ids = rows.copy_data.append, _ROW.pack, self._ids
        for label_run, timestamp, value in samples:
            series_id = ids.get(label_run)
            if series_id is None:
                result.drop(refused.get(label_run, "database_refused"))
                continue
            if series_id < 0:
                continue
            if math.isfinite(value) and _MIN_MS <= timestamp < _MAX_MS:
                append(pack(3, 8, series_id, 8, (timestamp - _PG_EPOCH_MS) * 1000, 8, value))
            elif is_stale_marker(value):
                result.drop("stale_marker")  # Prometheus marks vanished series with it
            else:
                # NaN would poison min/max/avg; infinities and times outside 1970-2200 too.
                result.drop("invalid_sample")
        return rows

    async def _register(self, conn: Any, new: dict[bytes, dict[str, str]]) -> dict[bytes, int]:
        if not new:
            return {}
        prints = {key: hashlib.sha256(key).digest() for key in new}
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO series (fingerprint, metric, nms, site, card_uid, measure, "
                "measure_key, measure_subkey, port, labels) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                [
                    (
                        prints[key],
                        labels.get("__name__", ""),
                        *(labels.get(column, "") for column in _SERIES_COLUMNS),
                        json.dumps(labels),
                    )
                    for key, labels in new.items()
                ],
            )
            await cur.execute(
                "SELECT fingerprint, id FROM series WHERE fingerprint = ANY(%s)",
                (list(prints.values()),),
            )
            by_print = {bytes(fp): int(series_id) for fp, series_id in await cur.fetchall()}
        return {key: by_print[fp] for key, fp in prints.items()}

    async def _upsert_cards(self, conn: Any, cards: list[dict[str, str]]) -> None:
        if not cards:
            return
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO cards (nms, card_uid, site, model, family, part, serial, "
                "data_provider, firmware, first_seen, last_seen) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now(), now()) "
                "ON CONFLICT (nms, card_uid) DO UPDATE SET site = EXCLUDED.site, "
                "model = EXCLUDED.model, family = EXCLUDED.family, part = EXCLUDED.part, "
                "serial = EXCLUDED.serial, data_provider = EXCLUDED.data_provider, "
                "firmware = EXCLUDED.firmware, last_seen = now()",
                [
                    (
                        c.get("nms", ""),
                        c.get("card_uid", ""),
                        c.get("site", ""),
                        c.get("card_model", ""),
                        c.get("card_family", ""),
                        c.get("card_part", ""),
                        c.get("card_serial", ""),
                        c.get("data_provider", ""),
                        c.get("firmware", ""),
                    )
                    for c in cards
                ],
            )


def _log_refused(
    labels: dict[str, str], reason: str, detail: dict[str, object], what: str = "series"
) -> None:
    """One line naming the series by its metric (cut short), never its whole label values."""
    name = labels.get("__name__", "")
    log.warning(
        f"{what} dropped: cannot be stored",
        extra={
            "fields": {
                "metric": name[:100],
                "card_uid": labels.get("card_uid", "")[:100],
                "reason": reason,
                **detail,
            }
        },
    )
