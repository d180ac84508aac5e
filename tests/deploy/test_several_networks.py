"""One exporter polling two NMS servers: series labelled by nms, one NMS's outage leaves the
other's data fresh."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.exporter.conftest import parse
from tests.support.stack import running_exporter, running_simulator

pytestmark = pytest.mark.e2e


def test_two_networks_one_exporter(tmp_path: Path) -> None:
    with (
        running_simulator(
            tmp_path, "--seed", "1", "--sites", "2", "--cards-per-site", "4", name="north"
        ) as north,
        running_simulator(
            tmp_path, "--seed", "2", "--sites", "3", "--cards-per-site", "5", name="south"
        ) as south,
        running_exporter(tmp_path, {"north": north.url, "south": south.url}) as exporter,
    ):

        def cards(samples: dict[str, list[tuple[dict[str, str], float]]], nms: str) -> int:
            return sum(1 for labels, _ in samples["padtec_card_info"] if labels["nms"] == nms)

        samples = parse(exporter.scrape())
        deadline = time.monotonic() + 20
        while cards(samples, "south") != south.truth()["cards"]:
            assert time.monotonic() < deadline
            time.sleep(0.3)
            samples = parse(exporter.scrape())
        assert cards(samples, "north") == north.truth()["cards"]
        assert {labels["nms"] for labels, _ in samples["padtec_power_dbm"]} == {"north", "south"}

        north.add_fault({"type": "outage", "mode": "5xx"})
        deadline = time.monotonic() + 20
        while True:
            samples = parse(exporter.scrape())
            up = {labels["nms"]: v for labels, v in samples["padtec_nms_up"]}
            if up == {"north": 0.0, "south": 1.0}:
                break
            assert time.monotonic() < deadline, up
            time.sleep(0.3)
        ages = {
            labels["nms"]: time.time() - v
            for labels, v in samples["padtec_collection_last_success_timestamp_seconds"]
            if labels["job"] == "critical"
        }
        assert ages["south"] < 5 < ages["north"] + 5  # south keeps collecting
        assert cards(samples, "north") == north.truth()["cards"]  # last data still served
