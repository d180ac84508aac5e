"""The real Alertmanager config: valid, routed by severity, inhibiting as documented."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.alertmanager import STACK_CONFIG, loopback_config, running_alertmanager
from tests.support.processes import require_binary
from tests.support.sinks import Received, SmtpSink, WebhookSink, smtp_sink, webhook_sink

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


def alert(name: str, severity: str, **labels: str) -> dict[str, Any]:
    return {"labels": {"alertname": name, "severity": severity, **labels}}


# On NMS "north": NMS core is unreachable below, which silences card-down of its cards.
ROA = {"nms": "north", "site": "POLARIS", "card_uid": "ROA1-HA-E29001-TR#374"}
EOA = {**ROA, "card_uid": "EOA1-HA-E21001-GV#12"}
STALE_CORE = {"nms": "core", "site": "RECIFE", "card_uid": "TM1200G-SA#951"}
STALE_EDGE = {"nms": "edge", "site": "RECIFE", "card_uid": "TM2400G-NK#5"}
LINE = {"nms": "core", "site": "NATAL", "card_uid": "TNS400G-NX#3", "measure_key": "8001"}
LINE_MAJOR = {**LINE, "card_uid": "TNS400G-NX#4"}
MINOR_ONLY = {"nms": "core", "site": "SALVADOR", "card_uid": "TCX200G-9A#68", "measure_key": "8001"}
ALERTS = [
    # A card down silences its own measurement alerts, not its neighbour's.
    alert("PadtecCardDown", "CRITICAL", **ROA),
    alert("PadtecPumpPowerOutOfRange", "CRITICAL", **ROA),
    alert("PadtecPumpPowerOutOfRange", "CRITICAL", **EOA),
    # NMS core unreachable silences the staleness and card-down of its cards, not those of
    # NMS edge (their lag behind the NMS is frozen with the NMS's data).
    alert("PadtecNmsUnreachable", "CRITICAL", nms="core"),
    alert("PadtecCardStale", "MINOR", **STALE_CORE),
    alert("PadtecCardDown", "CRITICAL", **STALE_CORE),
    alert("PadtecCardStale", "MINOR", **STALE_EDGE),
    # The Rx ladder of one port pages its highest step only; the other port is separate.
    alert("PadtecRxPowerCritical", "CRITICAL", measure_subkey="0", **LINE),
    alert("PadtecInputPowerLow", "MAJOR", measure_subkey="0", **LINE),
    alert("PadtecRxPowerLow", "MINOR", measure_subkey="0", **LINE),
    alert("PadtecInputPowerLow", "MAJOR", measure_subkey="1", **LINE),
    alert("PadtecInputPowerLow", "MAJOR", measure_subkey="0", **LINE_MAJOR),
    alert("PadtecRxPowerLow", "MINOR", measure_subkey="0", **LINE_MAJOR),
    # A MINOR alert alone: email, Telegram and webhook, no SMS or WhatsApp.
    alert("PadtecRxPowerLow", "MINOR", measure_subkey="0", **MINOR_ONLY),
]


@dataclass
class Delivered:
    """What the real Alertmanager, with the real routing tree, sent for ALERTS."""

    hooks: WebhookSink
    mail: SmtpSink

    def webhook_alerts(self, path: str = "/api/v1/alerts") -> list[dict[str, str]]:
        return [
            a["labels"] for r in self.hooks.requests if r.path == path for a in r.json()["alerts"]
        ]

    def delivered(self, name: str, path: str = "/api/v1/alerts") -> set[str]:
        """(card or NMS) of the alerts named ``name`` that reached ``path``."""
        return {
            labels.get("card_uid", "") + "/" + labels.get("measure_subkey", labels["nms"])
            for labels in self.webhook_alerts(path)
            if labels["alertname"] == name
        }


def arrived(name: str, path: str) -> Callable[[Received], bool]:
    return lambda request: request.path == path and name in request.body.decode()


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Delivered]:
    workdir = tmp_path_factory.mktemp("alertmanager")
    with webhook_sink() as hooks, smtp_sink() as mail:
        config = loopback_config(
            workdir,
            {host: hooks.url for host in HOSTS},
            f"127.0.0.1:{mail.port}",
            {"group_wait": "1s", "group_interval": "1s"},
        )
        with running_alertmanager(workdir, config) as am:
            am.post_alerts(ALERTS)
            result = Delivered(hooks, mail)
            expected = [
                ("PadtecPumpPowerOutOfRange", "/alert/sms"),
                ("PadtecCardStale", "/api/v1/alerts"),
                ("PadtecRxPowerCritical", "/alert/whatsapp"),
                ("PadtecInputPowerLow", "/api/v1/alerts"),
                ("PadtecRxPowerLow", "/alert/telegram"),
            ]
            for name, path in expected:
                hooks.wait_for(arrived(name, path))
            mail.wait_for(lambda m: "SALVADOR" in m.subject)
            # Inhibited alerts never arrive: give every group two more flushes to prove it.
            time.sleep(2.5)
            yield result


def test_card_down_silences_that_cards_measure_alerts(delivered: Delivered) -> None:
    assert delivered.delivered("PadtecCardDown") == {"ROA1-HA-E29001-TR#374/north"}
    assert delivered.delivered("PadtecPumpPowerOutOfRange") == {"EOA1-HA-E21001-GV#12/north"}


def test_nms_unreachable_silences_staleness_of_that_nms(delivered: Delivered) -> None:
    assert delivered.delivered("PadtecNmsUnreachable") == {"/core"}
    assert delivered.delivered("PadtecCardStale") == {"TM2400G-NK#5/edge"}


def test_rx_power_ladder_pages_the_highest_step_per_port(delivered: Delivered) -> None:
    assert delivered.delivered("PadtecRxPowerCritical") == {"TNS400G-NX#3/0"}
    assert delivered.delivered("PadtecInputPowerLow") == {"TNS400G-NX#3/1", "TNS400G-NX#4/0"}
    assert delivered.delivered("PadtecRxPowerLow") == {"TCX200G-9A#68/0"}


def test_minor_goes_to_email_telegram_and_webhook_only(delivered: Delivered) -> None:
    minor = "PadtecRxPowerLow"
    assert delivered.delivered(minor, "/alert/telegram") == {"TCX200G-9A#68/0"}
    assert delivered.delivered(minor, "/alert/sms") == set()
    assert delivered.delivered(minor, "/alert/whatsapp") == set()
    mail = delivered.mail.wait_for(lambda m: "SALVADOR" in m.subject)
    assert mail.subject.startswith("[FIRING:1] MINOR PadtecRxPowerLow at SALVADOR")
    assert "TCX200G-9A#68" in mail.text


def test_critical_and_major_also_go_to_sms_and_whatsapp(delivered: Delivered) -> None:
    for path in ("/alert/sms", "/alert/whatsapp", "/alert/telegram", "/api/v1/alerts"):
        assert delivered.delivered("PadtecRxPowerCritical", path) == {"TNS400G-NX#3/0"}, path
        major = delivered.delivered("PadtecInputPowerLow", path)
        assert major == {"TNS400G-NX#3/1", "TNS400G-NX#4/0"}, path
    assert any(
        "PadtecRxPowerCritical" in m.subject and "NATAL" in m.subject for m in delivered.mail.mails
    )
