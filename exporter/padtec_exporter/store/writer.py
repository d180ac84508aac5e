"""Write decoded remote-write series into PostgreSQL: idempotent, batched with COPY."""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from padtec_exporter.store.database import Database
from padtec_exporter.store.remote_write import Series, decode_labels

CARD_INFO = "padtec_card_info"
CARD_REFRESH_SECONDS = 3600.0  # how often a known card's last_seen is written again
_DROPPED = -1
_CARD = -2
_SERIES_COLUMNS = ("nms", "site", "card_uid", "measure", "measure_key", "measure_subkey", "port")


@dataclass
class WriteResult:
    received: int = 0
    written: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, count: int = 1) -> None:
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + count


class SampleWriter:
    def __init__(self, db: Database, metrics: list[str]) -> None:
        self._db = db
        self._metrics = set(metrics)
        # label bytes → series id, or _DROPPED / _CARD; filled only after a commit.
        self._ids: dict[bytes, int] = {}
        self._cards_seen: dict[bytes, float] = {}

    async def write(self, batch: list[Series]) -> WriteResult:
        result = WriteResult(received=sum(len(s.samples) for s in batch))
        new_series: dict[bytes, dict[str, str]] = {}
        cards: dict[bytes, dict[str, str]] = {}
        now = time.monotonic()
        for series in batch:
            known = self._ids.get(series.label_bytes)
            if known is None:
                labels = decode_labels(series.label_bytes)
                name = labels.get("__name__", "")
                if name == CARD_INFO:
                    self._ids[series.label_bytes] = known = _CARD
                elif name in self._metrics:
                    new_series[series.label_bytes] = labels
                    continue
                else:
                    self._ids[series.label_bytes] = known = _DROPPED
            if known == _CARD:
                if now - self._cards_seen.get(series.label_bytes, -1e9) > CARD_REFRESH_SECONDS:
                    cards[series.label_bytes] = decode_labels(series.label_bytes)
                result.drop("card_info", len(series.samples))
            elif known == _DROPPED:
                result.drop("metric_not_kept", len(series.samples))
        async with self._db.connection() as conn, conn.transaction():
            ids = await self._register(conn, new_series)
            await self._upsert_cards(conn, list(cards.values()))
            rows = self._rows(batch, ids, result)
            if rows:
                result.written = await self._copy(conn, rows)
                result.drop("duplicate", len(rows) - result.written)
        # Only now: a rolled-back series id or card must not be remembered as written.
        self._ids.update(ids)
        self._cards_seen.update(dict.fromkeys(cards, now))
        return result

    def _rows(self, batch: list[Series], ids: dict[bytes, int], result: WriteResult) -> list[str]:
        rows = []
        for series in batch:
            series_id = ids.get(series.label_bytes) or self._ids.get(series.label_bytes)
            if series_id is None or series_id < 0:
                continue
            for timestamp, value in series.samples:
                if math.isfinite(value):
                    rows.append(f"{series_id}\t{timestamp}\t{value!r}\n")
                elif math.isnan(value):
                    result.drop("stale_marker")  # Prometheus marks vanished series with NaN
                else:
                    result.drop("non_finite")
        return rows

    async def _copy(self, conn: Any, rows: list[str]) -> int:
        await conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS staging "
            "(series_id bigint, ms bigint, value float8) ON COMMIT DELETE ROWS"
        )
        async with conn.cursor() as cur:
            async with cur.copy("COPY staging (series_id, ms, value) FROM STDIN") as copy:
                await copy.write("".join(rows).encode())
            await cur.execute(
                "INSERT INTO measurements (series_id, time, value) "
                "SELECT series_id, to_timestamp(ms / 1000.0), value FROM staging "
                "ON CONFLICT DO NOTHING"
            )
            return int(cur.rowcount)

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
