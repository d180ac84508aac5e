"""The project's rules in a real Prometheus, scraping the exporter fed by the ten rows of the real
capture (tests/support/evidence_nms.py: fresh timestamps in the NMS's own zone, cardIsUp false as
captured). A working card whose every row says cardIsUp false raises nothing, pending or firing;
a second card whose measures stopped refreshing 14 minutes ago pages as down once it passes the
card-down lag. The exporter's collection metrics keep their `tier` label through the scrape, and
the Exporter-health dashboard's query gives one series per tier and result.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from padtec_exporter.rulegen import load_thresholds
from tests.support.evidence_nms import STAMP, EvidenceNms, evidence_nms
from tests.support.processes import REPO
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus
from tests.support.stack import running_exporter

pytestmark = pytest.mark.e2e
RULES = sorted((REPO / "prometheus" / "rules").glob("*.yml"))
LIVE = "ROA1-HA-E29001-TR#374"  # the captured card
SILENT = "ROA1-HA-E29001-TR#375"  # its twin, silent for the last ~14.5 minutes
CARD_DOWN_LAG = next(
    r.max
    for r in load_thresholds(REPO / "prometheus" / "thresholds.yml").rules
    if r.name == "card_down"
)


def add_silent_twin(nms: EvidenceNms, stopped_seconds_ago: float) -> None:
    """A second card, a copy of the captured one, whose updatedAt stopped moving: the NMS keeps
    answering and refreshing the captured card, not this one."""
    assert CARD_DOWN_LAG is not None
    stopped = nms.updated_at() - timedelta(seconds=stopped_seconds_ago)
    live_rows, live_inventory = nms.measure_rows, nms.inventory_rows

    def twin(row: dict[str, Any]) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(row).replace("#374", "#375"))
        copy["cardSerial"] = 375
        return copy

    def measure_rows() -> list[dict[str, Any]]:
        frozen = []
        for row in live_rows():
            copy = twin(row)
            copy["updatedAt"] = stopped.strftime(STAMP)
            copy["cardUpdate"] = (stopped - nms.status_lag).strftime(STAMP)
            frozen.append(copy)
        return live_rows() + frozen

    def inventory_rows() -> list[dict[str, Any]]:
        return live_inventory() + [twin(row) for row in live_inventory()]

    # The stand-in's handler reads these per request.
    nms.measure_rows = measure_rows  # type: ignore[method-assign]
    nms.inventory_rows = inventory_rows  # type: ignore[method-assign]


@pytest.fixture
def evidence(tmp_path: Path) -> Iterator[tuple[EvidenceNms, Prometheus]]:
    assert CARD_DOWN_LAG is not None
    with evidence_nms(refresh_seconds=5.0) as nms:
        nms.username, nms.password = "admin", "admin"  # what running_exporter logs in with
        add_silent_twin(nms, CARD_DOWN_LAG - 30)
        with (
            running_exporter(
                tmp_path, nms.url, critical=1.0, all_measures=2.0, alarms=1.0
            ) as exporter,
            running_prometheus(
                tmp_path, prometheus_config([exporter.target], rule_files=RULES)
            ) as prom,
        ):
            yield nms, prom


def alerts_of(prom: Prometheus, card: str) -> list[dict[str, str]]:
    return [r["metric"] for r in prom.query(f'ALERTS{{card_uid="{card}"}}')]


def test_evidence_card_stays_quiet_and_a_silent_card_pages(
    evidence: tuple[EvidenceNms, Prometheus],
) -> None:
    _, prom = evidence
    prom.wait_for(f'padtec_card_up{{card_uid="{LIVE}"}}', lambda r: bool(r), timeout=60)
    assert prom.scalar(f'padtec_card_up{{card_uid="{LIVE}"}}') == 0.0  # as captured
    assert prom.scalar(f'padtec_power_dbm{{card_uid="{LIVE}", measure_key="7260"}}') == 26.549

    # The silent card passes the card-down lag ~30 s in; PadtecCardDown has for: 1m.
    deadline = time.monotonic() + 240
    seen_live: list[dict[str, str]] = []
    down: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        seen_live += alerts_of(prom, LIVE)
        down = [
            a
            for a in alerts_of(prom, SILENT)
            if a["alertname"] == "PadtecCardDown" and a["alertstate"] == "firing"
        ]
        if down:
            break
        time.sleep(1)
    # Nothing on the captured card, pending or firing, for the whole time: no card down, no
    # staleness, no threshold (its pump 26.5 dBm is within the ROA1 override).
    assert seen_live == []
    assert down, f"silent card never paged; its alerts: {alerts_of(prom, SILENT)}"
    assert down[0]["severity"] == "CRITICAL"
    assert prom.query('ALERTS{alertname=~"PadtecNmsDataFrozen|PadtecNmsUnreachable"}') == []


def test_collection_metrics_keep_their_tier_label_through_prometheus(
    evidence: tuple[EvidenceNms, Prometheus],
) -> None:
    _, prom = evidence
    result = prom.wait_for(
        "padtec_collection_runs_total",
        lambda r: {s["metric"].get("tier") for s in r} >= {"critical", "all_measures", "alarms"},
        timeout=60,
    )
    for series in result:
        labels = series["metric"]
        assert labels["job"] == "padtec"  # Prometheus' own, untouched
        assert not any(name.startswith("exported_") for name in labels), labels
    # The Exporter-health dashboard's "Runs by result": one series per tier and result.
    board = json.loads((REPO / "grafana/dashboards/padtec-exporter-health.json").read_text())
    panel = next(p for p in board["panels"] if p.get("title") == "Runs by result")
    expr = panel["targets"][0]["expr"].replace("$__rate_interval", "1m").replace("$nms", ".*")
    rows = prom.wait_for(expr, lambda r: len({s["metric"]["tier"] for s in r}) >= 3, timeout=60)
    keys = [(s["metric"]["tier"], s["metric"]["result"]) for s in rows]
    assert len(keys) == len(set(keys))
    assert {tier for tier, _ in keys} >= {"critical", "all_measures", "alarms"}
