"""A real Prometheus remote-writing exporter data to the receiver: nothing is lost when the
receiver is killed or the database stops, because the receiver never acknowledges unstored data
and Prometheus retries from its WAL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.store.conftest import sql, start_receiver_process
from tests.support.postgres import Postgres
from tests.support.processes import free_port
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e
SERIES = 'padtec_temperature_celsius{card_uid="%s"}'


def stored_times(dsn: str, card: str) -> set[int]:
    rows = sql(
        dsn,
        "SELECT (extract(epoch FROM m.time) * 1000)::bigint FROM measurements m "
        "JOIN series s ON s.id = m.series_id WHERE s.metric = "
        "'padtec_temperature_celsius' AND s.card_uid = %s",
        card,
    )
    return {int(r[0]) for r in rows}  # type: ignore[call-overload]


def prometheus_times(prom: Prometheus, card: str, window_s: int) -> set[int]:
    result = prom.query(f"{SERIES % card}[{window_s}s]")
    return {round(float(ts) * 1000) for ts, _ in result[0]["values"]}


def test_no_sample_lost_across_receiver_kill_and_database_restart(
    tmp_path: Path, dsn: str, postgres: Postgres
) -> None:
    port = free_port()
    receiver = start_receiver_process(tmp_path, dsn, port)
    remote_write = [
        {
            "url": f"http://127.0.0.1:{port}/api/v1/write",
            "queue_config": {
                "batch_send_deadline": "1s",
                "min_backoff": "200ms",
                "max_backoff": "1s",
                "max_samples_per_send": 2000,
            },
        }
    ]
    try:
        with (
            running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "4") as sim,
            running_exporter(tmp_path, sim.url) as exporter,
            running_prometheus(
                tmp_path, prometheus_config([exporter.target], remote_write=remote_write)
            ) as prom,
        ):
            card = next(uid for uid in sim.truth()["card_uids"] if not uid.startswith("MDDC"))
            started = time.time()
            deadline = time.monotonic() + 30
            while not stored_times(dsn, card):
                assert time.monotonic() < deadline, "no sample reached PostgreSQL"
                time.sleep(0.5)

            receiver.kill()  # kill -9: whatever Prometheus sent and got no 2xx for, it resends
            time.sleep(4)
            receiver = start_receiver_process(tmp_path, dsn, port, name="store-2")
            time.sleep(2)
            postgres.stop()  # the receiver answers 503 meanwhile
            time.sleep(4)
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
                time.sleep(0.5)
    finally:
        receiver.stop()
