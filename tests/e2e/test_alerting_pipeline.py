"""Pump fault in the simulator → exporter → Prometheus with the real rules → Alertmanager with
the real routing → webhook sink, SMTP sink and the notify bridge (to a local fake Twilio);
clearing the fault sends the resolved notifications."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import THRESHOLDS_FILE, render_rule_files
from tests.support.alertmanager import loopback_config, running_alertmanager
from tests.support.processes import REPO, ManagedProcess, cli_command, free_port
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.sinks import Received, smtp_sink, webhook_sink
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e
ALERT = "PadtecPumpPowerOutOfRange"


def fast_rules(workdir: Path) -> Path:
    """The real thresholds and expressions; only `for:` shortened so the test is quick."""
    text = render_rule_files(
        load_thresholds(REPO / "prometheus" / "thresholds.yml"), for_override="2s"
    )[THRESHOLDS_FILE]
    path = workdir / THRESHOLDS_FILE
    path.write_text(text)
    return path


def bridge_config(workdir: Path, provider: str) -> Path:
    (workdir / "twilio_token").write_text("e2e-twilio-token\n")
    (workdir / "bot_token").write_text("e2e-bot-token\n")
    config = {
        "twilio": {
            "api_base": provider,
            "account_sid": "ACe2e",
            "auth_token_file": str(workdir / "twilio_token"),
            "sms_from": "+15550000000",
            "whatsapp_from": "+15550000001",
        },
        "telegram": {
            "api_base": provider,
            "bot_token_file": str(workdir / "bot_token"),
            "chat_ids": ["-100"],
        },
        "sms_recipients": {"CRITICAL": ["+5511999990001"], "MAJOR": ["+5511999990001"]},
        "whatsapp_recipients": {"CRITICAL": ["+5511999990002"]},
    }
    path = workdir / "bridge.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def alert_in(request: Received, card: str, status: str) -> bool:
    if request.path != "/api/v1/alerts":
        return False
    return any(
        a["labels"].get("alertname") == ALERT
        and a["labels"].get("card_uid") == card
        and a["status"] == status
        for a in request.json()["alerts"]
    )


def test_pump_fault_pages_and_resolves(tmp_path: Path) -> None:
    with (
        webhook_sink() as sink,
        smtp_sink() as smtp,
        running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "8") as sim,
        running_exporter(tmp_path, sim.url, critical=1.0, all_measures=2.0, alarms=1.0) as exporter,
    ):
        bridge_port = free_port()
        bridge = ManagedProcess(
            "bridge",
            cli_command(
                "notify-bridge",
                "--config",
                str(bridge_config(tmp_path, sink.url)),
                "--listen",
                f"127.0.0.1:{bridge_port}",
            ),
            tmp_path,
        )
        try:
            bridge.wait_http(f"http://127.0.0.1:{bridge_port}/healthz")
            am_config = loopback_config(
                tmp_path,
                {"store:9788": sink.url, "notify-bridge:9789": f"http://127.0.0.1:{bridge_port}"},
                f"127.0.0.1:{smtp.port}",
                {"group_wait": "1s", "group_interval": "2s", "repeat_interval": "1h"},
            )
            with (
                running_alertmanager(tmp_path, am_config) as am,
                running_prometheus(
                    tmp_path,
                    prometheus_config(
                        [exporter.target],
                        rule_files=[fast_rules(tmp_path)],
                        alertmanagers=[am.url.removeprefix("http://")],
                    ),
                ),
            ):
                truth = sim.truth()
                card = next(uid for uid in truth["card_uids"] if uid.startswith(("EOA", "ROA")))
                fault = sim.add_fault(
                    {"type": "pump_degradation", "card_uid": card, "target_dbm": 8.0}
                )

                fired = sink.wait_for(lambda r: alert_in(r, card, "firing"), timeout=60)
                alert = next(a for a in fired.json()["alerts"] if a["labels"]["card_uid"] == card)
                assert alert["labels"]["severity"] == "CRITICAL"
                assert alert["labels"]["site"] in truth["sites"]
                assert "8.00 dBm" in alert["annotations"]["description"]
                mail = smtp.wait_for(lambda m: ALERT in m.subject and card in m.text)
                assert "FIRING" in mail.subject and alert["labels"]["site"] in mail.text
                sms = sink.wait_for(
                    lambda r: r.path.endswith("/Messages.json") and card in r.form().get("Body", "")
                )
                assert sms.form()["Body"].startswith("[CRITICAL] FIRING " + ALERT)

                sim.clear_fault(fault)
                sink.wait_for(lambda r: alert_in(r, card, "resolved"), timeout=60)
                resolved = smtp.wait_for(lambda m: "RESOLVED" in m.subject and card in m.text)
                assert ALERT in resolved.subject
                sink.wait_for(
                    lambda r: (
                        r.path.endswith("/Messages.json") and "RESOLVED" in r.form().get("Body", "")
                    )
                )
        finally:
            bridge.stop()
