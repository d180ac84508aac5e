"""Real processes: simulator and exporter via the CLI, a real Prometheus scraping them."""

from __future__ import annotations

import gzip
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.processes import (
    require_binary,
    wait_http,
)
from tests.support.prometheus import prometheus_config, running_prometheus
from tests.support.stack import demo_process, running_exporter, running_simulator

pytestmark = pytest.mark.e2e


def test_prometheus_counts_the_cards_the_simulator_has(tmp_path: Path) -> None:
    with (
        running_simulator(tmp_path, "--sites", "4", "--cards-per-site", "6") as sim,
        running_exporter(tmp_path, sim.url) as exporter,
        running_prometheus(tmp_path, prometheus_config([exporter.target])) as prom,
    ):
        truth = sim.truth()
        result = prom.wait_for(
            "count(padtec_card_info)",
            lambda r: bool(r) and float(r[0]["value"][1]) == truth["cards"],
        )
        assert float(result[0]["value"][1]) == truth["cards"]
        sites = prom.query("count by (site) (padtec_card_info)")
        assert {r["metric"]["site"] for r in sites} == set(truth["sites"])
        assert prom.scalar('up{job="padtec"}') == 1.0
        assert prom.scalar("padtec_nms_up") == 1.0


def test_promtool_check_metrics_prints_nothing_on_a_scrape(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    with (
        running_simulator(tmp_path, "--sites", "3", "--cards-per-site", "6") as sim,
        running_exporter(tmp_path, sim.url) as exporter,
    ):
        # Ready means the inventory is in; the measures follow within a tier interval.
        deadline = time.monotonic() + 30
        body = b""
        while b"padtec_power_dbm{" not in body and time.monotonic() < deadline:
            time.sleep(0.2)
            request = urllib.request.Request(
                f"{exporter.url}/metrics", headers={"Accept-Encoding": "gzip"}
            )
            with urllib.request.urlopen(request, timeout=10) as resp:
                body = gzip.decompress(resp.read())
    assert b"padtec_power_dbm{" in body and b"padtec_nms_requests_total{" in body
    result = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, b"", b"")


def test_the_readme_run_command_serves_simulated_cards_within_60_seconds(tmp_path: Path) -> None:
    with demo_process(tmp_path) as demo:
        demo.process.wait_http(f"{demo.url}/readyz", timeout=60)
        with urllib.request.urlopen(f"{demo.url}/metrics", timeout=10) as resp:
            text = resp.read().decode()
        assert text.count("padtec_card_info{") == 48  # the demo network: 6 sites x 8 cards
        wait_http(f"{demo.control_url}/truth")
        assert demo.process.stop() == 0, demo.process.log()[-3000:]
