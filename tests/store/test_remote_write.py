"""Remote-write into PostgreSQL: stored, deduplicated, refused when malformed, retried when the
database is away."""

from __future__ import annotations

import struct
import time

import cramjam
import httpx2
import psycopg
import pytest

from padtec_exporter.store import StoreConfig
from padtec_exporter.store.remote_write import (
    PayloadError,
    decode_labels,
    decode_write_request,
    decompress,
    encode_write_request,
)
from tests.store.conftest import Receiver, running_receiver, sql
from tests.support.postgres import Postgres

NOW_MS = int(time.time() * 1000)
PUMP = {
    "__name__": "padtec_power_dbm",
    "nms": "core",
    "site": "São Paulo #2",
    "card_uid": "ROA1-HA-E29001-TR#374",
    "measure": "Pump Power",
    "measure_key": "7260",
    "measure_subkey": "0",
    "port": "Pump",
    "job": "padtec",
    "instance": "exporter:9787",
}
OSNR = {
    **PUMP,
    "__name__": "padtec_osnr_db",
    "measure": "OSNR",
    "measure_key": "8003",
    "card_uid": "TNS400G-NX#3",
    "port": "Line 1",
}
INFO = {
    "__name__": "padtec_card_info",
    "nms": "core",
    "site": "São Paulo #2",
    "card_uid": "ROA1-HA-E29001-TR#374",
    "card_model": "ROA1-HA-E29001-TR",
    "card_family": "AMPLIFIER",
    "card_part": "2633",
    "card_serial": "374",
    "data_provider": "172.30.0.21",
    "firmware": "2.11.1",
}
UP = {"__name__": "up", "job": "padtec", "instance": "exporter:9787"}


def payload(offset_ms: int = 0) -> bytes:
    times = [NOW_MS - 30_000 + offset_ms, NOW_MS - 15_000 + offset_ms, NOW_MS + offset_ms]
    return encode_write_request(
        [
            (PUMP, [(t, 18.25 + i) for i, t in enumerate(times)]),
            (OSNR, [(t, 22.5) for t in times]),
            (INFO, [(times[-1], 1.0)]),
            (UP, [(times[-1], 1.0)]),
        ]
    )


async def post(url: str, body: bytes) -> httpx2.Response:
    async with httpx2.AsyncClient() as client:
        return await client.post(
            f"{url}/api/v1/write",
            content=body,
            headers={
                "Content-Encoding": "snappy",
                "Content-Type": "application/x-protobuf",
                "X-Prometheus-Remote-Write-Version": "0.1.0",
            },
        )


def test_decoder_reads_what_prometheus_sends() -> None:
    samples = decode_write_request(decompress(payload()))
    assert [decode_labels(labels)["__name__"] for labels, _, _ in samples] == [
        *["padtec_power_dbm"] * 3,
        *["padtec_osnr_db"] * 3,
        "padtec_card_info",
        "up",
    ]
    assert decode_labels(samples[0][0]) == PUMP
    assert [value for _, _, value in samples[:3]] == [18.25, 19.25, 20.25]


MIXED = [
    (PUMP, [(NOW_MS, 0.0)]),  # Prometheus leaves a zero value out of the sample
    (OSNR, [(NOW_MS - 1000, 22.5), (NOW_MS, 0.0), (NOW_MS + 1000, -3.5)]),
    (INFO, [(NOW_MS, 1.0)]),
    (UP, [(1, 1.0)]),  # a timestamp too small for the fast path
]


def test_known_series_decode_like_new_ones() -> None:
    data = decompress(encode_write_request(MIXED))
    first = decode_write_request(data)
    expected = [(labels, t, v) for labels, samples in MIXED for t, v in samples]
    assert [(decode_labels(run), t, v) for run, t, v in first] == expected
    # Second sight: the label runs are known (what the writer passes), the result is the same.
    known = {run for run, _, _ in first}
    assert decode_write_request(data, known) == first


@pytest.mark.parametrize(
    "body",
    [
        b"definitely not snappy",
        bytes(cramjam.snappy.compress_raw(b"\x0a\xff\xff\xff\xff\x0f")),  # length past the end
        bytes(cramjam.snappy.compress_raw(b"\x0b")),  # wire type 3 (groups) is not ours
        bytes(cramjam.snappy.compress_raw(bytes(decompress(payload()))[:-5])),  # truncated
        bytes(cramjam.snappy.compress_raw(b"\x0a\x04\x12\x02\x09\x01")),  # cut sample value
    ],
)
def test_malformed_payloads_are_errors(body: bytes) -> None:
    with pytest.raises(PayloadError):
        decode_write_request(decompress(body))


async def test_samples_are_stored_once_and_cards_recorded(receiver: Receiver, dsn: str) -> None:
    assert (await post(receiver.url, payload())).status_code == 204
    assert sql(dsn, "SELECT count(*) FROM measurements") == [(6,)]
    rows = sql(
        dsn,
        "SELECT s.metric, s.site, s.card_uid, s.measure_key, m.value FROM "
        "measurements m JOIN series s ON s.id = m.series_id "
        "WHERE s.metric = 'padtec_power_dbm' ORDER BY m.time",
    )
    assert rows == [
        ("padtec_power_dbm", "São Paulo #2", "ROA1-HA-E29001-TR#374", "7260", v)
        for v in (18.25, 19.25, 20.25)
    ]
    assert sql(dsn, "SELECT model, family, serial, firmware FROM cards") == [
        ("ROA1-HA-E29001-TR", "AMPLIFIER", "374", "2.11.1")
    ]
    # Prometheus resends a batch after a timeout: nothing is stored twice.
    assert (await post(receiver.url, payload())).status_code == 204
    assert sql(dsn, "SELECT count(*) FROM measurements") == [(6,)]
    metrics = receiver.service.metrics
    assert metrics.dropped.labels("duplicate")._value.get() == 6
    assert metrics.dropped.labels("metric_not_kept")._value.get() == 2  # `up`, twice


def test_label_runs_are_checked_strictly() -> None:
    with pytest.raises(PayloadError, match="unexpected field in a label"):
        decode_labels(b"\x0a\x02\x18\x01")
    with pytest.raises(PayloadError, match="expected a label field"):
        decode_labels(b"\x12\x00")
    with pytest.raises(PayloadError, match="not UTF-8"):
        decode_labels(b"\x0a\x03\x0a\x01\xff")


async def test_zero_values_are_stored(receiver: Receiver, dsn: str) -> None:
    assert (await post(receiver.url, encode_write_request(MIXED))).status_code == 204
    rows = sql(
        dsn,
        "SELECT s.metric, (extract(epoch FROM m.time) * 1000)::bigint, m.value FROM measurements "
        "m JOIN series s ON s.id = m.series_id ORDER BY s.metric, m.time",
    )
    assert rows == [
        ("padtec_osnr_db", NOW_MS - 1000, 22.5),
        ("padtec_osnr_db", NOW_MS, 0.0),
        ("padtec_osnr_db", NOW_MS + 1000, -3.5),
        ("padtec_power_dbm", NOW_MS, 0.0),
    ]


async def test_partly_resent_batch_stores_only_the_new_samples(
    receiver: Receiver, dsn: str
) -> None:
    assert (await post(receiver.url, payload())).status_code == 204
    overlapping = encode_write_request(
        [(PUMP, [(NOW_MS, 20.25), (NOW_MS + 15_000, 21.25)]), (OSNR, [(NOW_MS + 15_000, 23.0)])]
    )
    assert (await post(receiver.url, overlapping)).status_code == 204
    assert sql(dsn, "SELECT count(*), max(value) FROM measurements") == [(8, 23.0)]
    assert receiver.service.metrics.dropped.labels("duplicate")._value.get() == 1


async def test_malformed_posts_get_400_and_store_nothing(receiver: Receiver, dsn: str) -> None:
    sample = b"\x12\x0b\x09" + struct.pack("<d", 1.0) + b"\x10\x01"
    bad_label = bytes(cramjam.snappy.compress_raw(b"\x0a\x11\x0a\x02\x18\x01" + sample))
    for body in (b"garbage", bytes(cramjam.snappy.compress_raw(b"\x0a\x05abc")), bad_label):
        response = await post(receiver.url, body)
        assert response.status_code == 400
        assert "malformed remote-write payload" in response.text
    assert sql(dsn, "SELECT count(*) FROM measurements") == [(0,)]


async def test_unstorable_samples_are_counted_and_the_rest_stored(
    receiver: Receiver, dsn: str
) -> None:
    stale = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
    nul_label = {**PUMP, "port": "Pump\x00"}  # valid UTF-8, but PostgreSQL text cannot hold it
    body = encode_write_request(
        [
            (PUMP, [(NOW_MS, 17.0), (NOW_MS + 1000, stale), (NOW_MS + 2000, float("nan"))]),
            (nul_label, [(NOW_MS, 1.0)]),
            (OSNR, [(NOW_MS, float("inf")), (-5, 1.0), (NOW_MS, 21.0)]),
        ]
    )
    assert (await post(receiver.url, body)).status_code == 204
    assert sql(dsn, "SELECT value FROM measurements ORDER BY value") == [(17.0,), (21.0,)]
    dropped = receiver.service.metrics.dropped
    assert dropped.labels("stale_marker")._value.get() == 1
    assert dropped.labels("invalid_sample")._value.get() == 3
    assert dropped.labels("invalid_labels")._value.get() == 1


async def test_database_down_means_503_and_nothing_lost(
    receiver: Receiver, dsn: str, postgres: Postgres
) -> None:
    assert (await post(receiver.url, payload())).status_code == 204
    postgres.stop()
    try:
        response = await post(receiver.url, payload(offset_ms=60_000))
        assert response.status_code == 503  # Prometheus keeps the batch and retries
    finally:
        postgres.start()
    assert (await post(receiver.url, payload(offset_ms=60_000))).status_code == 204
    assert sql(dsn, "SELECT count(*) FROM measurements") == [(12,)]


async def test_slow_database_means_503_before_prometheus_gives_up(dsn: str) -> None:
    async with running_receiver(dsn, StoreConfig(write_timeout_seconds=1)) as receiver:
        assert (await post(receiver.url, payload())).status_code == 204
        with psycopg.connect(dsn) as other:  # a long maintenance lock: writes wait behind it
            other.execute("LOCK TABLE measurements IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            response = await post(receiver.url, payload(offset_ms=60_000))
            assert response.status_code == 503
            assert time.monotonic() - started < 5
        assert (await post(receiver.url, payload(offset_ms=60_000))).status_code == 204
        assert sql(dsn, "SELECT count(*) FROM measurements") == [(12,)]


async def test_data_is_committed_even_after_a_readiness_probe(receiver: Receiver, dsn: str) -> None:
    # Regression: /readyz used a pooled connection outside a transaction block, which left it
    # inside an implicit transaction; writes through it were acknowledged but never committed.
    async with httpx2.AsyncClient() as client:
        for _ in range(8):  # touch every pooled connection
            assert (await client.get(f"{receiver.url}/readyz")).status_code == 200
    for offset in range(0, 8 * 60_000, 60_000):
        assert (await post(receiver.url, payload(offset_ms=offset))).status_code == 204
    # Read from another connection: only committed rows are visible there.
    assert sql(dsn, "SELECT count(*) FROM measurements") == [(6 * 8,)]
