"""Several networks and shards (docs/scaling.md): one exporter polling two NMS servers, every
series labelled with its own nms, one NMS's outage leaving the other's data fresh; and one
network split between two exporters by site, as deploy/examples/exporter-shard-north.yml does."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.exporter.conftest import parse
from tests.support.processes import REPO
from tests.support.stack import (
    ExporterProcess,
    SimulatorProcess,
    running_exporter,
    running_simulator,
)

pytestmark = pytest.mark.e2e

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape_until(
    exporter: ExporterProcess, condition: Callable[[Samples], bool], timeout: float = 20.0
) -> Samples:
    deadline = time.monotonic() + timeout
    while True:
        samples = parse(exporter.scrape())
        if condition(samples):
            return samples
        assert time.monotonic() < deadline, f"condition not met within {timeout}s"
        time.sleep(0.3)


def card_uids(samples: Samples, nms: str) -> set[str]:
    return {
        labels["card_uid"]
        for labels, _ in samples.get("padtec_card_info", [])
        if labels["nms"] == nms
    }


def nms_up(samples: Samples) -> dict[str, float]:
    return {labels["nms"]: value for labels, value in samples.get("padtec_nms_up", [])}


def last_critical_success(samples: Samples) -> dict[str, float]:
    return {
        labels["nms"]: value
        for labels, value in samples.get("padtec_collection_last_success_timestamp_seconds", [])
        if labels["tier"] == "critical"
    }


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
        networks: dict[str, SimulatorProcess] = {"north": north, "south": south}
        truth = {name: set(sim.truth()["card_uids"]) for name, sim in networks.items()}
        assert truth["north"] != truth["south"]

        def both_collected(samples: Samples) -> bool:
            powered = {labels["nms"] for labels, _ in samples.get("padtec_power_dbm", [])}
            return powered == set(networks) and all(
                card_uids(samples, name) == truth[name] for name in networks
            )

        samples = scrape_until(exporter, both_collected)
        # Every measure series belongs to a card of the NMS it is labelled with.
        for labels, _ in samples["padtec_power_dbm"]:
            assert labels["card_uid"] in truth[labels["nms"]], labels
        assert nms_up(samples) == {"north": 1.0, "south": 1.0}

        north.add_fault({"type": "outage", "mode": "5xx"})
        samples = scrape_until(exporter, lambda s: nms_up(s) == {"north": 0.0, "south": 1.0})
        before = last_critical_success(samples)
        # South keeps collecting (two more critical cycles of 1 s); north does not pretend to.
        after_samples = scrape_until(
            exporter, lambda s: last_critical_success(s)["south"] >= before["south"] + 1.5
        )
        after = last_critical_success(after_samples)
        assert after["north"] == before["north"]
        assert nms_up(after_samples) == {"north": 0.0, "south": 1.0}
        # The dead NMS's last inventory is still served; the live one's is untouched.
        assert card_uids(after_samples, "north") == truth["north"]
        assert card_uids(after_samples, "south") == truth["south"]


def shard_collect(example: dict[str, Any], sites: list[str]) -> dict[str, Any]:
    """The example shard's tiers, for these sites, at test speed: each filter of the example
    without its site, once per site."""
    collect: dict[str, Any] = {}
    for tier, settings in example["collect"].items():
        templates = {
            tuple(sorted((k, v) for k, v in f.items() if k != "locationSite"))
            for f in settings["filters"]
        }
        collect[tier] = {
            "interval_seconds": 5.0 if tier == "inventory" else 1.0,
            "filters": [
                {**dict(template), "locationSite": site}
                for template in sorted(templates)
                for site in sites
            ],
        }
    return collect


def sites_of(samples: Samples, metric: str) -> set[str]:
    return {labels["site"] for labels, _ in samples.get(metric, [])}


def measured_at(sites: set[str]) -> Callable[[Samples], bool]:
    return lambda samples: sites_of(samples, "padtec_power_dbm") == sites


def test_one_network_sharded_by_site(tmp_path: Path) -> None:
    example = yaml.safe_load(
        (REPO / "deploy" / "examples" / "exporter-shard-north.yml").read_text()
    )
    with running_simulator(tmp_path, "--sites", "4", "--cards-per-site", "3") as sim:
        truth = sim.truth()
        sites = sorted(truth["sites"])
        halves = {"north": sites[:2], "south": sites[2:]}
        with (
            running_exporter(
                tmp_path,
                {"core": sim.url},
                name="exporter-north",
                extra={"collect": shard_collect(example, halves["north"])},
            ) as north,
            running_exporter(
                tmp_path,
                {"core": sim.url},
                name="exporter-south",
                extra={"collect": shard_collect(example, halves["south"])},
            ) as south,
        ):
            shards = {"north": north, "south": south}
            scraped = {
                name: scrape_until(exporter, measured_at(set(halves[name])))
                for name, exporter in shards.items()
            }
            owned = {name: card_uids(samples, "core") for name, samples in scraped.items()}
            assert not owned["north"] & owned["south"]  # no card polled twice
            assert owned["north"] | owned["south"] == set(truth["card_uids"])  # none missed
            for name, samples in scraped.items():
                assert sites_of(samples, "padtec_card_info") == set(halves[name])
