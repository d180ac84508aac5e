"""Aggregates, retention and alarm history against real PostgreSQL (and a real Alertmanager
for acknowledgements)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import psycopg
import pytest

from padtec_exporter.store import jobs
from padtec_exporter.store.alarms import silence_matches
from padtec_exporter.store.remote_write import encode_write_request
from tests.store.conftest import Receiver, sql
from tests.store.test_remote_write import PUMP, post
from tests.support.alertmanager import running_alertmanager

# "Now" for the jobs: 10:30, days after the real clock, so no partition exists for it yet.
NOW = (datetime.now(UTC) + timedelta(days=10)).replace(hour=10, minute=30, second=0, microsecond=0)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


async def test_hourly_and_daily_aggregates(receiver: Receiver, dsn: str) -> None:
    hour = NOW.replace(minute=0) - timedelta(hours=2)  # 08:00, a complete hour
    samples = [
        (ms(hour + timedelta(minutes=m)), v)
        for m, v in ((0, 10.0), (15, 14.0), (30, 12.0), (45, 16.0))
    ]
    samples += [(ms(hour + timedelta(hours=1, minutes=5)), 20.0)]  # 09:05
    samples += [(ms(NOW - timedelta(minutes=5)), 99.0)]  # current hour: not aggregated yet
    samples += [(ms(hour - timedelta(days=1)), 30.0)]  # yesterday
    assert (await post(receiver.url, encode_write_request([(PUMP, samples)]))).status_code == 204
    await receiver.service.run_jobs(NOW)
    hourly = sql(
        dsn, "SELECT bucket, min, max, avg, count FROM measurements_hourly ORDER BY bucket"
    )
    assert [(b.hour, mn, mx, avg, n) for b, mn, mx, avg, n in hourly] == [
        (8, 30.0, 30.0, 30.0, 1),
        (8, 10.0, 16.0, 13.0, 4),
        (9, 20.0, 20.0, 20.0, 1),
    ]
    daily = sql(dsn, "SELECT bucket, min, max, avg, count FROM measurements_daily")
    assert daily == [((hour - timedelta(days=1)).replace(hour=0), 30.0, 30.0, 30.0, 1)]
    # A late sample for 08:00 (Prometheus retrying after an outage) is folded in next run.
    late = [(ms(hour + timedelta(minutes=50)), 4.0)]
    await post(receiver.url, encode_write_request([(PUMP, late)]))
    await receiver.service.run_jobs(NOW + timedelta(minutes=10))
    assert sql(dsn, "SELECT min, count FROM measurements_hourly WHERE bucket = %s", hour) == [
        (4.0, 5)
    ]


async def test_retention_drops_old_partitions_and_rows(receiver: Receiver, dsn: str) -> None:
    old = NOW - timedelta(days=40)
    async with receiver.service.db.connection() as conn, conn.transaction():
        await jobs.ensure_partitions(conn, old, days_back=0)
    samples = [(ms(old), 1.0), (ms(NOW - timedelta(days=35)), 2.0), (ms(NOW), 3.0)]
    await post(receiver.url, encode_write_request([(PUMP, samples)]))
    ancient = NOW - timedelta(days=400)
    async with receiver.service.db.connection() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO measurements_hourly SELECT id, %s, 7, 7, 7, 1 FROM series", (ancient,)
        )
    await receiver.service.run_jobs(NOW)
    # Raw: 30 days, whole partitions dropped (and old rows of the default partition deleted).
    assert sql(dsn, "SELECT value FROM measurements ORDER BY time") == [(3.0,)]
    assert sql(dsn, "SELECT to_regclass(%s)", f"measurements_p{old:%Y%m%d}") == [(None,)]
    # Hourly: 1 year. The old samples were aggregated before their raw rows went away.
    assert sql(dsn, "SELECT bucket, min FROM measurements_hourly ORDER BY bucket") == [
        (old.replace(minute=0), 1.0),
        ((NOW - timedelta(days=35)).replace(minute=0), 2.0),
    ]


async def test_partition_for_a_day_with_rows_in_the_default_partition(
    receiver: Receiver, dsn: str
) -> None:
    # A sample 5 days ahead (clock skew) lands in the default partition; when its day's
    # partition is created, the row moves there instead of making the job fail every run.
    ahead = NOW + timedelta(days=5)
    await post(receiver.url, encode_write_request([(PUMP, [(ms(ahead), 5.0)])]))
    assert sql(dsn, "SELECT tableoid::regclass::text FROM measurements") == [
        ("measurements_default",)
    ]
    await receiver.service.run_jobs(ahead)
    assert sql(dsn, "SELECT tableoid::regclass::text, value FROM measurements") == [
        (f"measurements_p{ahead:%Y%m%d}", 5.0)
    ]
    metrics = receiver.service.metrics
    assert metrics.job_runs.labels("partitions", "success")._value.get() == 1


async def test_a_job_another_receiver_is_running_is_skipped(receiver: Receiver, dsn: str) -> None:
    with psycopg.connect(dsn) as other:  # holds the lock until its transaction ends
        other.execute(
            "SELECT pg_advisory_xact_lock(hashtext('padtec_store_job'), hashtext('aggregate'))"
        )
        await receiver.service.run_jobs(NOW)
    runs = receiver.service.metrics.job_runs
    assert runs.labels("aggregate", "skipped")._value.get() == 1
    assert runs.labels("aggregate", "success")._value.get() == 0
    assert runs.labels("retention", "success")._value.get() == 1


def webhook(status: str, card: str = "ROA1-HA-E29001-TR#374") -> dict[str, object]:
    return {
        "version": "4",
        "status": status,
        "alerts": [
            {
                "status": status,
                "fingerprint": "abc123",
                "labels": {
                    "alertname": "PadtecPumpPowerOutOfRange",
                    "severity": "CRITICAL",
                    "nms": "core",
                    "site": "POLARIS",
                    "card_uid": card,
                },
                "annotations": {"summary": "Pump power outside [12, 24] dBm"},
                "startsAt": "2026-11-25T10:00:00.123456789Z",
                "endsAt": "2026-11-25T10:20:00Z"
                if status == "resolved"
                else "0001-01-01T00:00:00Z",
            }
        ],
    }


async def test_alarm_history_active_then_cleared(receiver: Receiver, dsn: str) -> None:
    async with httpx2.AsyncClient() as client:
        assert (
            await client.post(f"{receiver.url}/api/v1/alerts", json=webhook("firing"))
        ).status_code == 200
        assert sql(dsn, "SELECT status, site, card_uid, severity, ends_at FROM alarms") == [
            ("ACTIVE", "POLARIS", "ROA1-HA-E29001-TR#374", "CRITICAL", None)
        ]
        await client.post(f"{receiver.url}/api/v1/alerts", json=webhook("resolved"))
        [(status, ends)] = sql(dsn, "SELECT status, ends_at FROM alarms")
        assert status == "CLEARED" and ends == datetime(2026, 11, 25, 10, 20, tzinfo=UTC)
        # A late retry of the firing notification does not reopen it.
        await client.post(f"{receiver.url}/api/v1/alerts", json=webhook("firing"))
        assert sql(dsn, "SELECT status, ends_at FROM alarms") == [(status, ends)]
        for garbage in (
            {},
            webhook("firing") | {"alerts": [{"status": "firing", "labels": {}, "startsAt": "x"}]},
            webhook("firing") | {"alerts": [{"status": "odd", "labels": {}, "startsAt": ""}]},
        ):
            bad = await client.post(f"{receiver.url}/api/v1/alerts", json=garbage)
            assert bad.status_code == 400, bad.text
        assert sql(dsn, "SELECT count(*) FROM alarms") == [(1,)]


@pytest.mark.parametrize(
    ("matchers", "labels", "hit"),
    [
        ([{"name": "card_uid", "value": "A#1", "isRegex": False}], {"card_uid": "A#1"}, True),
        ([{"name": "card_uid", "value": "A#.*", "isRegex": True}], {"card_uid": "A#12"}, True),
        (
            [{"name": "card_uid", "value": "A#1", "isRegex": False, "isEqual": False}],
            {"card_uid": "A#1"},
            False,
        ),
        (
            [
                {"name": "site", "value": "X", "isRegex": False},
                {"name": "card_uid", "value": "A#1", "isRegex": False},
            ],
            {"card_uid": "A#1"},
            False,
        ),
        ([{"name": "site", "value": "", "isRegex": False}], {"card_uid": "A#1"}, True),
        ([], {"card_uid": "A#1"}, False),
    ],
)
def test_silence_matching(
    matchers: list[dict[str, object]], labels: dict[str, str], hit: bool
) -> None:
    assert silence_matches(matchers, labels) is hit


async def test_a_silence_acknowledges_the_alarm(
    receiver: Receiver, dsn: str, tmp_path: Path
) -> None:
    config = tmp_path / "am.yml"
    config.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    async with httpx2.AsyncClient() as client:
        await client.post(f"{receiver.url}/api/v1/alerts", json=webhook("firing"))
        await client.post(
            f"{receiver.url}/api/v1/alerts",
            json=webhook("firing", card="EOA1-HA-E21001-GV#12")
            | {
                "alerts": [
                    webhook("firing")["alerts"][0]  # type: ignore[index]
                    | {
                        "fingerprint": "other",
                        "labels": {
                            "alertname": "PadtecPumpPowerOutOfRange",
                            "card_uid": "EOA1-HA-E21001-GV#12",
                        },
                    }
                ]
            },
        )
    with running_alertmanager(tmp_path, config) as am:
        silence = {
            "matchers": [
                {
                    "name": "card_uid",
                    "value": "ROA1-HA-E29001-TR#374",
                    "isRegex": False,
                    "isEqual": True,
                }
            ],
            "startsAt": datetime.now(UTC).isoformat(),
            "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "createdBy": "alice",
            "comment": "fibre crew on site",
        }
        request = urllib.request.Request(
            f"{am.url}/api/v2/silences",
            method="POST",
            data=json.dumps(silence).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass
        receiver.service.config.alertmanager_url = am.url
        await receiver.service.poll_silences()
    rows = sql(dsn, "SELECT card_uid, status, acknowledged_by FROM alarms ORDER BY card_uid")
    assert rows == [
        ("EOA1-HA-E21001-GV#12", "ACTIVE", None),
        ("ROA1-HA-E29001-TR#374", "ACKNOWLEDGED", "alice"),
    ]
