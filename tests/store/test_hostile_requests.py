"""Requests that used to stall the store: a label too long for an index, alerts with huge or
NUL-bearing values, snappy and deflate bombs, foreign encodings. Real PostgreSQL, real HTTP."""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import cramjam
import httpx2
import psycopg
import pytest

from padtec_exporter.store import StoreConfig
from padtec_exporter.store.config import LimitsConfig
from padtec_exporter.store.remote_write import encode_write_request
from tests.store.conftest import Receiver, running_receiver, sql, start_receiver_process
from tests.store.test_jobs_and_alarms import webhook
from tests.store.test_remote_write import NOW_MS, OSNR, PUMP, post
from tests.support.processes import ManagedProcess, free_port

POISON = {**PUMP, "card_uid": secrets.token_hex(1500)}  # 3,000 characters


def execute(dsn: str, statement: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(statement)


def dropped(receiver: Receiver, reason: str) -> float:
    return float(receiver.service.metrics.dropped.labels(reason)._value.get())


async def test_a_long_label_drops_that_series_only(
    receiver: Receiver, dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = encode_write_request([(POISON, [(NOW_MS, 1.0)]), (OSNR, [(NOW_MS, 22.5)])])
    with caplog.at_level(logging.WARNING):
        response = await post(receiver.url, body)
    assert response.status_code == 204
    assert sql(
        dsn, "SELECT s.metric, m.value FROM measurements m JOIN series s ON s.id = m.series_id"
    ) == [("padtec_osnr_db", 22.5)]
    assert dropped(receiver, "label_too_long") == 1
    # One line names the series' metric; the 3 KB value itself is never logged.
    [record] = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert record.fields["metric"] == "padtec_power_dbm"  # type: ignore[attr-defined]
    assert POISON["card_uid"] not in caplog.text
    assert POISON["card_uid"] not in str(record.__dict__)
    # Prometheus resends it with the next scrape: still 2xx, still counted, no new log line.
    later = encode_write_request([(POISON, [(NOW_MS + 1, 1.0)]), (OSNR, [(NOW_MS + 1, 23.0)])])
    assert (await post(receiver.url, later)).status_code == 204
    assert dropped(receiver, "label_too_long") == 2
    # A batch holding nothing storable is a 4xx: Prometheus drops it instead of retrying.
    only_poison = encode_write_request([(POISON, [(NOW_MS + 2, 1.0)])])
    response = await post(receiver.url, only_poison)
    assert response.status_code == 400 and "label_too_long" in response.text


async def test_a_series_the_database_refuses_is_dropped_not_retried(dsn: str) -> None:
    # Limits lifted: the 3 KB value reaches PostgreSQL, whose btree index refuses it
    # ("index row size ... exceeds btree version 4 maximum 2704"), a permanent error.
    config = StoreConfig(limits=LimitsConfig(max_label_value_bytes=100_000))
    async with running_receiver(dsn, config) as receiver:
        body = encode_write_request([(POISON, [(NOW_MS, 1.0)]), (OSNR, [(NOW_MS, 22.5)])])
        assert (await post(receiver.url, body)).status_code == 204
        assert sql(dsn, "SELECT value FROM measurements") == [(22.5,)]
        assert dropped(receiver, "database_refused") == 1
        only_poison = encode_write_request([(POISON, [(NOW_MS + 1, 1.0)])])
        assert (await post(receiver.url, only_poison)).status_code == 400
        async with httpx2.AsyncClient() as client:
            assert (await client.get(f"{receiver.url}/readyz")).status_code == 200


async def test_readyz_reports_a_store_that_keeps_failing(receiver: Receiver, dsn: str) -> None:
    # The database answers (SELECT 1 works) but every write fails: the table is gone.
    execute(dsn, "ALTER TABLE measurements RENAME TO measurements_away")
    async with httpx2.AsyncClient() as client:
        for offset in range(receiver.service.config.limits.unready_after_failures):
            batch = encode_write_request([(OSNR, [(NOW_MS + offset, 1.0)])])
            assert (await post(receiver.url, batch)).status_code == 500
        response = await client.get(f"{receiver.url}/readyz")
        assert response.status_code == 503 and "writes failing" in response.text
        execute(dsn, "ALTER TABLE measurements_away RENAME TO measurements")
        # Prometheus retries; the first stored batch makes it ready again.
        batch = encode_write_request([(OSNR, [(NOW_MS, 1.0)])])
        assert (await post(receiver.url, batch)).status_code == 204
        assert (await client.get(f"{receiver.url}/readyz")).status_code == 200


def alert_with(**labels_and_annotations: str) -> dict[str, object]:
    doc = copy.deepcopy(webhook("firing"))
    alert = doc["alerts"][0]  # type: ignore[index]
    for key, value in labels_and_annotations.items():
        target = "annotations" if key == "summary" else "labels"
        alert[target][key] = value
    return doc


async def test_hostile_alerts_are_stored_sanitised(receiver: Receiver, dsn: str) -> None:
    async with httpx2.AsyncClient(timeout=30) as client:
        huge = await client.post(
            f"{receiver.url}/api/v1/alerts", json=alert_with(site="S" * 1_000_000)
        )
        assert huge.status_code == 200
        [(site,)] = sql(dsn, "SELECT site FROM alarms")
        assert site.startswith("S" * 1000) and len(site.encode()) < 1100
        nul = alert_with(summary="pump\x00 power\x07 low", card_uid="ROA1\x00#9")
        nul["alerts"][0]["fingerprint"] = "nul"  # type: ignore[index]
        assert (await client.post(f"{receiver.url}/api/v1/alerts", json=nul)).status_code == 200
        assert sql(dsn, "SELECT card_uid, summary FROM alarms WHERE fingerprint = 'nul'") == [
            ("ROA1\ufffd#9", "pump\ufffd power\ufffd low")
        ]
        old = {**webhook("firing"), "version": "3"}
        response = await client.post(f"{receiver.url}/api/v1/alerts", json=old)
        assert response.status_code == 400 and "version" in response.text
    altered = receiver.service.metrics.alert_values_altered
    assert altered.labels("too_long")._value.get() == 1
    assert altered.labels("control_characters")._value.get() == 2


# -- bombs and foreign encodings, against the receiver as a process (its RSS is measured) ----
def rss_peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def receiver_process(tmp_path: Path, dsn: str) -> Iterator[tuple[str, ManagedProcess]]:
    port = free_port()
    proc = start_receiver_process(tmp_path, dsn, port)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()


async def probe_health(url: str, stop: asyncio.Event) -> list[float]:
    """Latency of /healthz every 50 ms until ``stop``; a failed probe raises."""
    seen: list[float] = []
    async with httpx2.AsyncClient(timeout=5) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = await client.get(f"{url}/healthz")
            assert response.status_code == 200
            seen.append(time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return seen


async def test_snappy_bomb_is_refused_at_once(
    receiver_process: tuple[str, ManagedProcess],
) -> None:
    url, proc = receiver_process
    bomb = bytes(cramjam.snappy.compress_raw(bytes(100 * 1024 * 1024)))
    assert len(bomb) < 6 * 1024 * 1024  # a small body that declares 100 MB
    before = rss_peak_kib(proc.proc.pid)
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_health(url, stop))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    response = await post(url, bomb)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.2)
    stop.set()
    health = await prober
    assert response.status_code == 413 and "limit" in response.text
    assert elapsed < 1.0
    assert len(health) >= 3  # /healthz answered before, during and after
    assert rss_peak_kib(proc.proc.pid) - before < 50 * 1024


async def test_foreign_encodings_are_refused_unread(
    receiver_process: tuple[str, ManagedProcess],
) -> None:
    url, proc = receiver_process
    before = rss_peak_kib(proc.proc.pid)
    deflate_bomb = zlib.compress(bytes(100 * 1024 * 1024), 9)  # ~100 KB → 100 MB
    snappy_body = encode_write_request([(OSNR, [(NOW_MS, 1.0)])])
    async with httpx2.AsyncClient(timeout=30) as client:
        for encoding, body in (("deflate", deflate_bomb), ("gzip", snappy_body)):
            response = await client.post(
                f"{url}/api/v1/write",
                content=body,
                headers={"Content-Encoding": encoding, "Content-Type": "application/x-protobuf"},
            )
            assert response.status_code == 415, encoding
            assert "snappy" in response.text
        response = await client.post(
            f"{url}/api/v1/write",
            content=snappy_body,
            headers={"Content-Encoding": "snappy", "Content-Type": "application/json"},
        )
        assert response.status_code == 415
        response = await client.post(
            f"{url}/api/v1/write",
            content=snappy_body,
            headers={
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
                "X-Prometheus-Remote-Write-Version": "2.0.0",
            },
        )
        assert response.status_code == 415
        assert (await client.get(f"{url}/healthz")).status_code == 200
    assert rss_peak_kib(proc.proc.pid) - before < 50 * 1024


async def test_back_pressure_when_all_write_slots_are_busy(dsn: str) -> None:
    config = StoreConfig(limits=LimitsConfig(max_concurrent_writes=1), write_timeout_seconds=5)
    async with running_receiver(dsn, config) as receiver:
        assert (
            await post(receiver.url, encode_write_request([(OSNR, [(NOW_MS, 1.0)])]))
        ).status_code == 204
        with psycopg.connect(dsn) as other:  # a maintenance lock: the first write waits on it
            other.execute("LOCK TABLE measurements IN ACCESS EXCLUSIVE MODE")
            slow = asyncio.create_task(
                post(receiver.url, encode_write_request([(OSNR, [(NOW_MS + 1, 2.0)])]))
            )
            deadline = time.monotonic() + 10
            while sql(
                dsn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            ) == [(0,)]:
                assert time.monotonic() < deadline, "the first write never reached the lock"
                await asyncio.sleep(0.05)
            busy = await post(receiver.url, encode_write_request([(OSNR, [(NOW_MS + 2, 3.0)])]))
            assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
            async with httpx2.AsyncClient() as client:
                assert (await client.get(f"{receiver.url}/healthz")).status_code == 200
        assert (await slow).status_code == 204  # the lock is gone with the connection
