"""The scaling and HA examples of deploy/examples/ (quoted in docs/scaling.md) are real configs:
promtool and our config checker accept them, the HA Prometheus config keeps the stack's jobs,
and a real Prometheus started with the HA override's flags takes its replica name from the
environment."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.processes import REPO, cli_command, require_binary
from tests.support.prometheus import running_prometheus

EXAMPLES = REPO / "deploy" / "examples"


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def jobs(config: dict[str, Any]) -> dict[str, set[str]]:
    return {
        job["job_name"]: {t for sc in job["static_configs"] for t in sc["targets"]}
        for job in config["scrape_configs"]
    }


def alertmanager_members(override: dict[str, Any]) -> set[str]:
    return {f"{name}:9093" for name in override["services"] if name.startswith("alertmanager")}


@pytest.mark.parametrize(
    "name", ["prometheus-ha.yml", "prometheus-sharded.yml", "prometheus-clustered-store.yml"]
)
def test_promtool_accepts_the_example(name: str, tmp_path: Path) -> None:
    text = (EXAMPLES / name).read_text()
    copy = tmp_path / name
    copy.write_text(text.replace("/etc/prometheus/rules", str(REPO / "prometheus" / "rules")))
    result = subprocess.run(
        [require_binary("promtool"), "check", "config", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["exporter-several-nms.yml", "exporter-shard-north.yml"])
def test_exporter_examples_pass_check_config(name: str) -> None:
    result = subprocess.run(
        cli_command("check-config", "--offline", str(EXAMPLES / name)),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ha_config_is_the_stack_config_with_a_replica_and_the_alertmanager_cluster() -> None:
    stack = load(REPO / "prometheus" / "prometheus.yml")
    ha = load(EXAMPLES / "prometheus-ha.yml")
    members = alertmanager_members(load(EXAMPLES / "docker-compose.ha.yml"))
    assert len(members) == 2
    assert jobs(ha) == {**jobs(stack), "alertmanager": members}
    assert ha["rule_files"] == stack["rule_files"]
    assert ha["global"]["external_labels"] == {
        **stack["global"]["external_labels"],
        "replica": "${REPLICA}",
    }
    assert {"action": "labeldrop", "regex": "replica"} in ha["alerting"]["alert_relabel_configs"]
    targets = {
        t for am in ha["alerting"]["alertmanagers"] for t in am["static_configs"][0]["targets"]
    }
    assert targets == members
    assert [rw["url"] for rw in ha["remote_write"]] == [rw["url"] for rw in stack["remote_write"]]


def test_prometheus_with_the_ha_override_flags_takes_its_replica_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    override = load(EXAMPLES / "docker-compose.ha.yml")["services"]["prometheus-b"]
    flags = [f for f in override["command"] if f.startswith("--enable-feature")]
    monkeypatch.setenv("REPLICA", override["environment"]["REPLICA"])
    config = load(EXAMPLES / "prometheus-ha.yml")
    config["rule_files"] = []  # the config, not the rules, is under test here
    with running_prometheus(tmp_path, config, name="prometheus-b", extra_args=flags) as prom:
        loaded = yaml.safe_load(prom.api("/api/v1/status/config")["yaml"])
    assert loaded["global"]["external_labels"]["replica"] == "b"


def test_scaling_doc_quotes_the_tested_examples() -> None:
    doc = (REPO / "docs" / "scaling.md").read_text()
    for path in sorted(EXAMPLES.iterdir()):
        assert f"deploy/examples/{path.name}" in doc, path.name
