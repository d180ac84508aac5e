"""Two Prometheus replicas and two Alertmanagers clustered by gossip, on loopback: one
notification per alert while both replicas fire it, and still one after an Alertmanager dies.

The member killed is the one that notifies first (cluster position 0; the other waits
position x peer_timeout and sends only when the shared notification log does not show it
sent): losing the other one would prove nothing."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import THRESHOLDS_FILE, render_rule_files
from tests.support.alertmanager import Alertmanager, loopback_config, running_alertmanager
from tests.support.processes import REPO, free_port
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.sinks import WebhookSink, smtp_sink, webhook_sink
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e
ALERT = "PadtecPumpPowerOutOfRange"


def notifications(sink: WebhookSink, card: str) -> int:
    return sum(
        1
        for r in sink.requests
        if r.path == "/api/v1/alerts"
        for a in r.json()["alerts"]
        if a["labels"].get("card_uid") == card
        and a["status"] == "firing"
        and a["labels"]["alertname"] == ALERT
    )


def wait_count(sink: WebhookSink, card: str, settle: float = 6.0) -> int:
    deadline = time.monotonic() + 60
    while notifications(sink, card) == 0:
        assert time.monotonic() < deadline, "no notification arrived"
        time.sleep(0.2)
    time.sleep(settle)  # a duplicate from the other member would arrive within this
    return notifications(sink, card)


def cluster_status(am: Alertmanager) -> dict[str, Any]:
    with urllib.request.urlopen(f"{am.url}/api/v2/status", timeout=5) as resp:
        status: dict[str, Any] = json.loads(resp.read())["cluster"]
    return status


def wait_clustered(members: list[Alertmanager]) -> None:
    deadline = time.monotonic() + 20
    while not all(
        s["status"] == "ready" and len(s.get("peers") or []) == len(members)
        for s in map(cluster_status, members)
    ):
        assert time.monotonic() < deadline, [cluster_status(m) for m in members]
        time.sleep(0.2)


def first_to_notify(members: list[Alertmanager]) -> Alertmanager:
    """Alertmanager orders the cluster by peer name; position 0 sends without waiting."""
    return min(members, key=lambda m: str(cluster_status(m)["name"]))


def test_one_notification_per_alert_across_replicas_and_failures(tmp_path: Path) -> None:
    rules = tmp_path / THRESHOLDS_FILE
    rules.write_text(
        render_rule_files(
            load_thresholds(REPO / "prometheus" / "thresholds.yml"), for_override="1s"
        )[THRESHOLDS_FILE]
    )
    with (
        webhook_sink() as sink,
        smtp_sink() as smtp,
        running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "8") as sim,
        running_exporter(tmp_path, sim.url, critical=1.0) as exporter,
    ):
        config = loopback_config(
            tmp_path,
            {"store:9788": sink.url, "notify-bridge:9789": sink.url + "/bridge"},
            f"127.0.0.1:{smtp.port}",
            {"group_wait": "1s", "group_interval": "1h", "repeat_interval": "1h"},
        )
        gossip = [free_port(), free_port()]
        peers = [f"127.0.0.1:{p}" for p in gossip]
        with (
            running_alertmanager(tmp_path, config, "am-1", peers[1:], gossip[0]) as am1,
            running_alertmanager(tmp_path, config, "am-2", peers[:1], gossip[1]) as am2,
        ):
            wait_clustered([am1, am2])
            ams = [am1.url.removeprefix("http://"), am2.url.removeprefix("http://")]
            replicas = []
            for name in ("a", "b"):
                config_doc = prometheus_config(
                    [exporter.target],
                    rule_files=[rules],
                    alertmanagers=ams,
                    external_labels={"replica": name},
                )
                config_doc["alerting"]["alert_relabel_configs"] = [
                    {"action": "labeldrop", "regex": "replica"}
                ]
                replicas.append(running_prometheus(tmp_path, config_doc, name=f"prom-{name}"))
            with replicas[0] as prom_a, replicas[1] as prom_b:
                # Two amplifiers at different sites: different alert groups (site, alertname).
                info = prom_a.wait_for(
                    'padtec_card_info{card_family="AMPLIFIER"}',
                    lambda r: len({x["metric"]["site"] for x in r}) > 1,
                )
                by_site = {x["metric"]["site"]: x["metric"]["card_uid"] for x in info}
                first, second = list(by_site.values())[:2]
                sim.add_fault({"type": "pump_degradation", "card_uid": first, "target_dbm": 8.0})
                for prom in (prom_a, prom_b):  # both replicas fire it
                    prom.wait_for(
                        f'ALERTS{{alertname="{ALERT}", card_uid="{first}", alertstate="firing"}}',
                        bool,
                    )
                assert wait_count(sink, first) == 1

                first_to_notify([am1, am2]).process.kill()
                sim.add_fault({"type": "pump_degradation", "card_uid": second, "target_dbm": 8.0})
                assert wait_count(sink, second, settle=4.0) == 1
