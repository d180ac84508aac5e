"""A real Prometheus scraping a fixed target and remote-writing to the receiver: values arrive
exactly, and nothing is lost when the receiver is killed or the database stops, because the
receiver never acknowledges unstored data and Prometheus retries from its WAL."""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.store.conftest import sql, start_receiver_process
from tests.support.postgres import Postgres
from tests.support.processes import free_port
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus

pytestmark = pytest.mark.e2e


EXPOSITION = b"""\
# TYPE padtec_card_up gauge
padtec_card_up{nms="core",site="POLARIS",card_uid="ROA1#1"} 0
padtec_card_up{nms="core",site="POLARIS",card_uid="ROA1#2"} 1
# TYPE padtec_power_dbm gauge
padtec_power_dbm{nms="core",site="POLARIS",card_uid="ROA1#1",measure="Pump Power",\
measure_key="7260",measure_subkey="0",port="Pump"} 18.25
# TYPE padtec_card_info gauge
padtec_card_info{nms="core",site="POLARIS",card_uid="ROA1#1",card_model="ROA1-HA",\
card_family="AMPLIFIER",card_part="2633",card_serial="374",data_provider="10.0.0.1",\
firmware="2.11.1"} 1
# TYPE unrelated_metric gauge
unrelated_metric 5
"""


@contextlib.contextmanager
def fixed_target(body: bytes) -> Iterator[str]:
    """A scrape target serving one fixed exposition (no exporter needed)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_values_arrive_exactly_as_prometheus_scraped_them(tmp_path: Path, dsn: str) -> None:
    port = free_port()
    receiver = start_receiver_process(tmp_path, dsn, port)
    remote_write = [
        {
            "url": f"http://127.0.0.1:{port}/api/v1/write",
            "queue_config": {"batch_send_deadline": "500ms", "min_backoff": "100ms"},
        }
    ]
    query = (
        "SELECT s.metric, s.card_uid, count(*), min(m.value), max(m.value) FROM measurements m "
        "JOIN series s ON s.id = m.series_id GROUP BY 1, 2 ORDER BY 1, 2"
    )
    try:
        with (
            fixed_target(EXPOSITION) as target,
            running_prometheus(tmp_path, prometheus_config([target], remote_write=remote_write)),
        ):
            deadline = time.monotonic() + 30
            while len(rows := sql(dsn, query)) < 3 or min(r[2] for r in rows) < 3:
                assert time.monotonic() < deadline, f"not stored in time: {rows}"
                time.sleep(0.3)
        # A zero (which Prometheus sends without a value field) is stored as 0, not dropped.
        assert [(m, c, lo, hi) for m, c, _, lo, hi in rows] == [
            ("padtec_card_up", "ROA1#1", 0.0, 0.0),
            ("padtec_card_up", "ROA1#2", 1.0, 1.0),
            ("padtec_power_dbm", "ROA1#1", 18.25, 18.25),
        ]
        assert sql(dsn, "SELECT site, model, family, serial, firmware FROM cards") == [
            ("POLARIS", "ROA1-HA", "AMPLIFIER", "374", "2.11.1")
        ]
        # Prometheus' own series (up, scrape_*) and unrelated metrics are counted, not stored.
        assert sql(dsn, "SELECT DISTINCT metric FROM series ORDER BY 1") == [
            ("padtec_card_up",),
            ("padtec_power_dbm",),
        ]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        assert 'padtec_store_samples_dropped_total{reason="metric_not_kept"}' in metrics
    finally:
        receiver.stop()


def stored_times(dsn: str, card: str) -> set[int]:
    rows = sql(
        dsn,
        "SELECT (extract(epoch FROM m.time) * 1000)::bigint FROM measurements m "
        "JOIN series s ON s.id = m.series_id WHERE s.metric = 'padtec_power_dbm' "
        "AND s.card_uid = %s",
        card,
    )
    return {int(r[0]) for r in rows}


def wait_until_stored(dsn: str, card: str, timeout: float = 30.0) -> None:
    """Until a sample of ``card`` has reached PostgreSQL through Prometheus' remote-write."""
    deadline = time.monotonic() + timeout
    while not stored_times(dsn, card):
        assert time.monotonic() < deadline, "no sample reached PostgreSQL"
        time.sleep(0.3)


def prometheus_times(prom: Prometheus, card: str, window_s: int) -> set[int]:
    result = prom.query(f'padtec_power_dbm{{card_uid="{card}"}}[{window_s}s]')
    return {round(float(ts) * 1000) for ts, _ in result[0]["values"]}


def refused_by_database(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    match = re.search(
        r'^padtec_store_requests_refused_total\{endpoint="write",reason="database"\} (\S+)$',
        text,
        re.MULTILINE,
    )
    return float(match.group(1)) if match else 0.0


def test_no_sample_lost_across_receiver_kill_and_database_restart(
    tmp_path: Path, dsn: str, postgres: Postgres
) -> None:
    port = free_port()
    receiver = start_receiver_process(tmp_path, dsn, port)
    remote_write = [
        {
            "url": f"http://127.0.0.1:{port}/api/v1/write",
            "queue_config": {
                "batch_send_deadline": "500ms",
                "min_backoff": "200ms",
                "max_backoff": "1s",
            },
        }
    ]
    card = "ROA1#1"
    try:
        with (
            fixed_target(EXPOSITION) as target,
            running_prometheus(
                tmp_path, prometheus_config([target], remote_write=remote_write)
            ) as prom,
        ):
            started = time.time()
            wait_until_stored(dsn, card)

            receiver.kill()  # kill -9: whatever Prometheus sent and got no 2xx for, it resends
            time.sleep(4)
            receiver = start_receiver_process(tmp_path, dsn, port, name="store-2")
            time.sleep(2)
            postgres.stop()
            time.sleep(4)
            assert refused_by_database(port) > 0  # 503 while the database was away
            postgres.start()
            time.sleep(2)

            window = int(time.time() - started) + 2
            expected = prometheus_times(prom, card, window)
            assert len(expected) > 10
            deadline = time.monotonic() + 30
            while not expected <= stored_times(dsn, card):
                assert time.monotonic() < deadline, (
                    f"missing in PostgreSQL: {sorted(expected - stored_times(dsn, card))}"
                )
                time.sleep(0.3)
    finally:
        receiver.stop()


POISON_CARD = secrets.token_hex(1500)  # random: PostgreSQL cannot compress it below the index limit


def pending_samples(prom: Prometheus) -> float:
    with urllib.request.urlopen(f"{prom.url}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    values = re.findall(r"^prometheus_remote_storage_samples_pending\{[^}]*\} (\S+)$", text, re.M)
    assert values, "Prometheus does not expose prometheus_remote_storage_samples_pending"
    return sum(float(v) for v in values)


def receiver_dropped(port: int, reason: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    match = re.search(
        rf'^padtec_store_samples_dropped_total\{{reason="{reason}"\}} (\S+)$', text, re.M
    )
    return float(match.group(1)) if match else 0.0


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ("", "label_too_long"),  # the default bound refuses it before PostgreSQL
        ("limits: {max_label_value_bytes: 100000}\n", "database_refused"),  # PostgreSQL does
    ],
)
def test_a_poison_series_does_not_stall_the_queue(
    tmp_path: Path, dsn: str, limits: str, reason: str
) -> None:
    """The issue's stall: a series whose 3 KB label PostgreSQL cannot index appears in the
    scrape. Prometheus must keep sending, and every other sample must be stored."""
    config = tmp_path / "store.yml"
    config.write_text(limits or "{}\n")
    port = free_port()
    receiver = start_receiver_process(tmp_path, dsn, port, config=config)
    remote_write = [
        {
            "url": f"http://127.0.0.1:{port}/api/v1/write",
            "queue_config": {"batch_send_deadline": "500ms", "min_backoff": "100ms"},
        }
    ]
    body = [EXPOSITION]
    card = "ROA1#1"
    try:
        with (
            mutable_target(body) as target,
            running_prometheus(
                tmp_path, prometheus_config([target], remote_write=remote_write)
            ) as prom,
        ):
            started = time.time()
            wait_until_stored(dsn, card)
            body[0] = (
                EXPOSITION
                + (
                    f'padtec_power_dbm{{nms="core",site="POLARIS",card_uid="{POISON_CARD}",'
                    'measure="Pump Power",measure_key="7260",measure_subkey="0",port="Pump"} 1\n'
                ).encode()
            )
            deadline = time.monotonic() + 30
            while receiver_dropped(port, reason) < 3:
                assert time.monotonic() < deadline, "the poison series never arrived"
                time.sleep(0.3)
            time.sleep(3)
            window = int(time.time() - started) + 2
            expected = prometheus_times(prom, card, window)
            deadline = time.monotonic() + 30
            while pending_samples(prom) > 0 or not expected <= stored_times(dsn, card):
                assert time.monotonic() < deadline, (
                    f"queue stalled: {pending_samples(prom)} pending, "
                    f"missing {sorted(expected - stored_times(dsn, card))}"
                )
                time.sleep(0.3)
        assert sql(dsn, "SELECT count(*) FROM series WHERE length(card_uid) > 1000") == [(0,)]
        assert "Traceback" not in receiver.log()
    finally:
        receiver.stop()


@contextlib.contextmanager
def mutable_target(body: list[bytes]) -> Iterator[str]:
    """A scrape target serving ``body[0]``, which the test may replace while it runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body[0])

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
