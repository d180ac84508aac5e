"""Backup and disaster recovery as docs/operations.md tells it (issue 15): a store holding what
a real Prometheus remote-wrote and an alarm history is dumped with the page's pg_dump command,
restored with its pg_restore command into a fresh PostgreSQL set up by `store init-sql`, and
every row is found again; the store then carries on on the restored database. The Prometheus
TSDB snapshot and its restore are run the same way."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
import urllib.request
from pathlib import Path

import psycopg
import pytest

from tests.docs.blocks import blocks
from tests.store.conftest import sql, start_receiver_process
from tests.store.test_jobs_and_alarms import webhook
from tests.store.test_prometheus_remote_write import EXPOSITION, fixed_target
from tests.store.test_remote_write import payload
from tests.support.postgres import Postgres, _bin, running_postgres
from tests.support.processes import REPO, cli_command, free_port
from tests.support.prometheus import prometheus_config, running_prometheus

pytestmark = pytest.mark.e2e

OPERATIONS = REPO / "docs" / "operations.md"
DOC_DUMP = "/var/backups/padtec/store.dump"


def documented(program: str) -> list[str]:
    """The page's command line running ``program`` (continuation lines joined), as argv."""
    for block in blocks(OPERATIONS, "sh"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line)
            if program in words:
                return words[words.index(program) :]
    raise AssertionError(f"docs/operations.md runs no {program}")


def run_documented(program: str, conninfo: str, dump: Path) -> None:
    argv = [
        _bin(program) if w == program else w.replace(DOC_DUMP, str(dump))
        for w in documented(program)
    ]
    argv = [f"--dbname={conninfo}" if w == "--dbname=padtec" else w for w in argv]
    assert f"--dbname={conninfo}" in argv and str(dump) in " ".join(argv), argv
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300)


def every_row(conninfo: str) -> dict[str, list[str]]:
    """Every table of the store's schema, every row as text, sorted."""
    with psycopg.connect(conninfo) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall()
        ]
        return {
            t: sorted(r[0] for r in conn.execute(f'SELECT t::text FROM "{t}" t').fetchall())
            for t in tables
        }


def apply_init_sql(server: Postgres) -> None:
    script = subprocess.run(
        cli_command("store", "init-sql"), capture_output=True, text=True, check=True
    ).stdout
    subprocess.run(
        [
            _bin("psql"),
            *("-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "-d", "postgres"),
            *("-v", "owner_password=Owner-Pa55", "-v", "reader_password=Reader-Pa55"),
        ],
        input=script,
        check=True,
        capture_output=True,
        text=True,
    )


def post_alert(port: int, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/alerts",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def other_alert() -> dict[str, object]:
    """A second alarm, on another card, still firing."""
    body = json.loads(json.dumps(webhook("firing", card="ROA1-HA-E29001-TR#210")))
    body["alerts"][0]["fingerprint"] = "def456"
    result: dict[str, object] = body
    return result


def test_store_backup_restores_every_row_and_the_alarm_history(tmp_path: Path, dsn: str) -> None:
    port = free_port()
    receiver = start_receiver_process(tmp_path, dsn, port)
    remote_write = [
        {
            "url": f"http://127.0.0.1:{port}/api/v1/write",
            "queue_config": {"batch_send_deadline": "500ms", "min_backoff": "100ms"},
        }
    ]
    counts = (
        "SELECT count(DISTINCT series_id), min(n) "
        "FROM (SELECT series_id, count(*) n FROM measurements GROUP BY 1) x"
    )
    try:
        with (
            fixed_target(EXPOSITION) as target,
            running_prometheus(tmp_path, prometheus_config([target], remote_write=remote_write)),
        ):
            deadline = time.monotonic() + 60
            while (row := sql(dsn, counts)[0])[0] < 3 or (row[1] or 0) < 3:
                assert time.monotonic() < deadline, f"not stored in time: {row}"
                time.sleep(0.3)
        # The alarm history: one alarm that fired and cleared, one still active.
        post_alert(port, webhook("firing"))
        post_alert(port, webhook("resolved"))
        post_alert(port, other_alert())
        before = every_row(dsn)
        dump = tmp_path / "store.dump"
        run_documented("pg_dump", dsn, dump)  # online: the store is still running
    finally:
        receiver.stop()
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert (
        len(before["measurements_default"])
        + sum(len(v) for k, v in before.items() if k.startswith("measurements_p"))
        >= 9
    )
    history = sql(dsn, "SELECT card_uid, status FROM alarms ORDER BY card_uid")
    assert history == [
        ("ROA1-HA-E29001-TR#210", "ACTIVE"),
        ("ROA1-HA-E29001-TR#374", "CLEARED"),
    ]

    with running_postgres() as fresh:
        apply_init_sql(fresh)
        restored_dsn = f"host=127.0.0.1 port={fresh.port} dbname=padtec user=postgres"
        run_documented("pg_restore", restored_dsn, dump)
        assert every_row(restored_dsn) == before
        assert sql(restored_dsn, "SELECT card_uid, status FROM alarms ORDER BY card_uid") == history
        owners = sql(
            restored_dsn, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        )
        assert owners == [("padtec",)]
        # The store carries on on the restored database, as its own role: new series get
        # new numbers (sequences restored), Grafana's role reads them.
        owner_dsn = f"host=127.0.0.1 port={fresh.port} dbname=padtec user=padtec"
        port = free_port()
        (tmp_path / "after").mkdir()
        store = start_receiver_process(tmp_path / "after", owner_dsn, port, name="store-after")
        try:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v1/write",
                data=payload(),
                method="POST",
                # urllib would label the body form-encoded, which the store refuses (415).
                headers={"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 204
        finally:
            store.stop()
        reader_dsn = f"host=127.0.0.1 port={fresh.port} dbname=padtec user=grafana_reader"
        series = sql(reader_dsn, "SELECT count(*) FROM series")[0][0]
        assert series > len(before["series"])


def test_prometheus_snapshot_restores_the_samples(tmp_path: Path) -> None:
    snapshot_cmd = next(b for b in blocks(OPERATIONS, "sh") if "/api/v1/admin/tsdb/snapshot" in b)
    restore_cmd = next(b for b in blocks(OPERATIONS, "sh") if "--strip-components" in b)
    source, backups, target = tmp_path / "source", tmp_path / "backups", tmp_path / "target"
    backups.mkdir()
    expr = 'count_over_time(padtec_card_up{card_uid="ROA1#2"}[10m])'
    with (
        fixed_target(EXPOSITION) as scraped,
        running_prometheus(
            source, prometheus_config([scraped]), extra_args=["--web.enable-admin-api"]
        ) as prom,
    ):
        prom.wait_for(expr, lambda r: bool(r) and float(r[0]["value"][1]) >= 6)
        data = source / "prometheus-data"
        at = time.time() - 1  # every sample up to here is in the snapshot
        script = (
            snapshot_cmd.replace("http://127.0.0.1:9090", prom.url)
            .replace("/var/lib/prometheus/metrics2", str(data))
            .replace("/var/backups/padtec", str(backups))
        )
        subprocess.run(["bash", "-euc", script], check=True, capture_output=True, timeout=120)
        expected = prom.scalar(expr.replace("[10m]", f"[10m] @ {at:.3f}"))
    restore = "\n".join(
        line
        for line in restore_cmd.splitlines()
        if line.startswith(("mkdir", "tar"))  # systemctl, chown: not in a test
    )
    restored = target / "prometheus-data"
    target.mkdir()
    script = restore.replace("/var/lib/prometheus/metrics2", str(restored)).replace(
        "/var/backups/padtec", str(backups)
    )
    subprocess.run(["bash", "-euc", script], check=True, capture_output=True, timeout=120)
    with running_prometheus(target, prometheus_config([])) as again:
        got = again.scalar(expr.replace("[10m]", f"[10m] @ {at:.3f}"))
    assert expected is not None and expected >= 3
    assert got == expected
    assert re.search(r"systemctl stop prometheus", restore_cmd)
