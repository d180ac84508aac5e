"""The real Alertmanager config: valid, routed by severity, inhibiting as documented."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.alertmanager import STACK_CONFIG, loopback_config, running_alertmanager
from tests.support.processes import require_binary
from tests.support.sinks import smtp_sink, webhook_sink

HOSTS = ("store:9788", "notify-bridge:9789")


def test_amtool_check_config_is_clean() -> None:
    amtool = require_binary("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(STACK_CONFIG)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("severity", "receiver"),
    [
        ("CRITICAL", "noc-major"),
        ("MAJOR", "noc-major"),
        ("MINOR", "noc-minor"),
        ("WARNING", "noc-minor"),
        ("UNKNOWN", "noc-minor"),
    ],
)
def test_routes_by_severity(severity: str, receiver: str) -> None:
    amtool = require_binary("amtool")
    result = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={STACK_CONFIG}",
            f"--verify.receivers={receiver}",
            f"severity={severity}",
            "site=POLARIS",
            "alertname=PadtecPumpPowerOutOfRange",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_no_secret_is_written_in_the_config() -> None:
    text = STACK_CONFIG.read_text()
    for key in ("auth_password:", "bot_token:", "api_key:", "auth_token:"):
        assert key not in text


def test_card_down_inhibits_the_cards_measure_alerts(tmp_path: Path) -> None:
    with webhook_sink() as sink, smtp_sink() as smtp:
        config = loopback_config(
            tmp_path,
            {host: sink.url for host in HOSTS},
            f"127.0.0.1:{smtp.port}",
            {"group_wait": "1s", "group_interval": "1s"},
        )
        with running_alertmanager(tmp_path, config) as am:
            card = {"nms": "core", "site": "POLARIS", "card_uid": "ROA1-HA-E29001-TR#374"}
            other = {**card, "card_uid": "EOA1-HA-E21001-GV#12"}
            am.post_alerts(
                [
                    {"labels": {"alertname": "PadtecCardDown", "severity": "CRITICAL", **card}},
                    {
                        "labels": {
                            "alertname": "PadtecPumpPowerOutOfRange",
                            "severity": "CRITICAL",
                            **card,
                        }
                    },
                    {
                        "labels": {
                            "alertname": "PadtecPumpPowerOutOfRange",
                            "severity": "CRITICAL",
                            **other,
                        }
                    },
                ]
            )
            sink.wait_for(
                lambda r: r.path == "/alert/sms" and "PadtecPumpPowerOutOfRange" in r.body.decode()
            )
            time.sleep(2)  # let every group flush
            pump_cards = {
                alert["labels"]["card_uid"]
                for r in sink.requests
                if r.path == "/api/v1/alerts"
                for alert in r.json()["alerts"]
                if alert["labels"]["alertname"] == "PadtecPumpPowerOutOfRange"
            }
            assert pump_cards == {"EOA1-HA-E21001-GV#12"}  # the down card's pump is silent
            down = [
                r
                for r in sink.requests
                if r.path == "/api/v1/alerts" and "PadtecCardDown" in r.body.decode()
            ]
            assert down
