"""Alarm history with the NMS's own start times: alarms already active at the NMS before
Prometheus started (the simulator's standing alarms began hours to weeks ago) reach the store
through the real chain (simulator → exporter → Prometheus with the project's health rules →
Alertmanager with the real routing → store → PostgreSQL) with `starts_at` = the alarm's
alarmStartDate, not the moment Prometheus first saw them."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.store.conftest import start_receiver_process
from tests.support.alertmanager import loopback_config, running_alertmanager
from tests.support.postgres import running_postgres
from tests.support.processes import REPO, free_port
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e


def health_rules(workdir: Path) -> Path:
    """The real health rules, only `for:` shortened so the test is quick."""
    doc = yaml.safe_load((REPO / "prometheus" / "rules" / "padtec-health.yml").read_text())
    for group in doc["groups"]:
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "1s"
    path = workdir / "padtec-health.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def nms_active_alarms(base: str) -> list[dict[str, Any]]:
    """alarm/state rows as the NMS answers them (login as the exporter does)."""
    login = urllib.request.Request(
        f"{base}/v1/admin/login",
        data=json.dumps({"username": "admin", "password": "admin", "clientId": "t"}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(login, timeout=10) as resp:
        token = json.loads(resp.read())["token"]
    query = f"{base}/v1/alarm/state?alarmIsActive=true&page=0&size=5000"
    request = urllib.request.Request(query, headers={"Authorization": token})
    with urllib.request.urlopen(request, timeout=10) as resp:
        rows: list[dict[str, Any]] = json.loads(resp.read())
    return rows


def stored(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(
            conn.execute(
                "SELECT card_uid, labels->>'alarm_name', starts_at FROM alarms "
                "WHERE alertname = 'PadtecNmsAlarm'"
            ).fetchall()
        )


def test_alarm_active_before_prometheus_started_keeps_its_nms_start(tmp_path: Path) -> None:
    with (
        running_postgres() as pg,
        running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "8") as sim,
        running_exporter(tmp_path, sim.url, critical=1.0, all_measures=2.0, alarms=1.0) as exporter,
    ):
        dsn = pg.create_database("history")
        store_port = free_port()
        store = start_receiver_process(tmp_path, dsn, store_port)
        try:
            am_config = loopback_config(
                tmp_path,
                {"store:9788": f"http://127.0.0.1:{store_port}"},
                "127.0.0.1:1",  # mail is not what this test looks at
                {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"},
            )
            truth = {
                (row["cardUid"], row["alarmName"]): datetime.strptime(
                    row["alarmStartDate"], "%Y-%m-%d %H:%M:%S"
                ).replace(tzinfo=UTC)  # the simulator's (and exporter's) default zone
                for row in nms_active_alarms(sim.url)
                if row["alarmSeverity"] != "CLEARED"
            }
            assert truth, "the simulator has no standing alarm to test with"
            prometheus_started = datetime.now(UTC)
            with (
                running_alertmanager(tmp_path, am_config) as am,
                running_prometheus(
                    tmp_path,
                    prometheus_config(
                        [exporter.target],
                        rule_files=[health_rules(tmp_path)],
                        alertmanagers=[am.url.removeprefix("http://")],
                    ),
                ),
            ):
                deadline = time.monotonic() + 120
                rows = stored(dsn)
                while len(rows) < len(truth) and time.monotonic() < deadline:
                    time.sleep(1)
                    rows = stored(dsn)
        finally:
            store.stop()
    assert {(card, name) for card, name, _ in rows} == set(truth)
    for card, name, starts_at in rows:
        assert starts_at == truth[(card, name)], (card, name)
        assert starts_at < prometheus_started
