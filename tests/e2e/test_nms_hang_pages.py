"""A hung NMS pages within 2 minutes: real simulator, exporter and Prometheus with the real
health rules (their real ``for``), and the exporter's default client timeouts, retries and
tier intervals (issue 12: before, the first failure came after ~2 min and the alert waited 2m
more)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from tests.support.processes import REPO, ManagedProcess, cli_command, free_port
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.stack import running_simulator

pytestmark = pytest.mark.e2e

HEALTH_RULES = REPO / "prometheus" / "rules" / "padtec-health.yml"


def firing(alerts: list[dict[str, object]], name: str) -> bool:
    return any(
        a["state"] == "firing" and a["labels"]["alertname"] == name  # type: ignore[index]
        for a in alerts
    )


def test_a_hung_nms_pages_within_two_minutes(tmp_path: Path) -> None:
    listen = f"127.0.0.1:{free_port()}"
    with running_simulator(tmp_path, "--sites", "2", "--cards-per-site", "4") as sim:
        config = {
            # Nothing but the NMS and the listen address: every timeout, retry and interval
            # is the exporter's default.
            "nms": [
                {
                    "name": "core",
                    "base_url": sim.url,
                    "auth": {"username": "admin", "password": "admin"},
                }
            ],
            "web": {"listen_address": listen},
        }
        config_path = tmp_path / "exporter.yml"
        config_path.write_text(yaml.safe_dump(config))
        exporter = ManagedProcess(
            "exporter", cli_command("serve", "--config", str(config_path)), tmp_path
        )
        try:
            exporter.wait_http(f"http://{listen}/readyz", timeout=60)
            with running_prometheus(
                tmp_path, prometheus_config([listen], rule_files=[HEALTH_RULES])
            ) as prom:
                prom.wait_for("padtec_nms_up", lambda r: bool(r) and r[0]["value"][1] == "1")
                sim.add_fault({"type": "outage", "mode": "hang"})
                hung_at = time.monotonic()
                prom.wait_for(
                    "padtec_nms_up", lambda r: bool(r) and r[0]["value"][1] == "0", timeout=60
                )
                down_after = time.monotonic() - hung_at
                deadline = hung_at + 120
                while not firing(prom.alerts(), "PadtecNmsUnreachable"):
                    assert time.monotonic() < deadline, (
                        f"PadtecNmsUnreachable not firing 2 min after the hang "
                        f"(nms_up 0 after {down_after:.0f} s)\n{exporter.log()[-2000:]}"
                    )
                    time.sleep(1)
                print(
                    f"nms_up 0 after {down_after:.0f} s; firing after "
                    f"{time.monotonic() - hung_at:.0f} s"
                )
        finally:
            exporter.stop()
