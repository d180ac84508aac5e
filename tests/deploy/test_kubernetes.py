"""Kubernetes manifests validated offline against Kubernetes' own schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.processes import REPO

K8S = REPO / "deploy" / "kubernetes"


def test_core_manifests_pass_strict_schema_validation() -> None:
    files = [K8S / f"{name}.yaml" for name in ("configmap", "deployment", "service")]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "kubernetes-validate"),
            "--strict",
            "-k",
            "1.30.0",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_service_monitor_selects_the_service_and_its_port() -> None:
    monitor = yaml.safe_load((K8S / "servicemonitor.yaml").read_text())
    service = yaml.safe_load((K8S / "service.yaml").read_text())
    deployment = yaml.safe_load((K8S / "deployment.yaml").read_text())
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    wanted = monitor["spec"]["selector"]["matchLabels"]
    assert wanted.items() <= service["metadata"]["labels"].items()
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    assert (
        service["spec"]["selector"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert all((K8S / resource).is_file() for resource in kustomization["resources"])


def test_exporter_config_in_the_configmap_is_valid() -> None:
    from padtec_exporter.config import config_from_data

    configmap = yaml.safe_load((K8S / "configmap.yaml").read_text())
    config = config_from_data(yaml.safe_load(configmap["data"]["config.yml"]))
    assert config.nms[0].auth.token_file == "/var/run/secrets/padtec/nms_token"
