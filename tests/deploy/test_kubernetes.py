"""Kubernetes manifests validated offline: Kubernetes 1.30's own schemas (strict) for the core
kinds, structural checks for the ServiceMonitor (a CRD), and cross-checks with the image and
the exporter's config."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from padtec_exporter.config import config_from_data
from tests.support.processes import REPO

K8S = REPO / "deploy" / "kubernetes"


def manifest(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((K8S / f"{name}.yaml").read_text())
    return doc


def exporter_container() -> dict[str, Any]:
    containers = manifest("deployment")["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


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
    monitor = manifest("servicemonitor")
    service = manifest("service")
    deployment = manifest("deployment")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["kind"] == "ServiceMonitor"
    assert monitor["metadata"]["name"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    assert wanted.items() <= service["metadata"]["labels"].items()
    ports = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in ports
        assert endpoint["path"] == "/metrics"
        assert re.fullmatch(r"\d+s", endpoint["interval"]) and re.fullmatch(
            r"\d+s", endpoint["scrapeTimeout"]
        )
        assert int(endpoint["scrapeTimeout"][:-1]) < int(endpoint["interval"][:-1])
    assert (
        service["spec"]["selector"].items()
        <= deployment["spec"]["template"]["metadata"]["labels"].items()
    )
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_exporter_config_in_the_configmap_is_valid_and_matches_the_pod() -> None:
    config = config_from_data(yaml.safe_load(manifest("configmap")["data"]["config.yml"]))
    container = exporter_container()
    listen_port = int(config.web.listen_address.rsplit(":", 1)[1])
    assert [p["containerPort"] for p in container["ports"]] == [listen_port]
    config_mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    args = container["args"]
    config_path = PurePosixPath(args[args.index("--config") + 1])
    assert config_path.parent == PurePosixPath(config_mount["mountPath"])
    # Every token file the exporter reads is inside a mounted Secret.
    secret_volumes = {
        v["name"]
        for v in manifest("deployment")["spec"]["template"]["spec"]["volumes"]
        if "secret" in v
    }
    secret_dirs = [
        PurePosixPath(m["mountPath"])
        for m in container["volumeMounts"]
        if m["name"] in secret_volumes
    ]
    for nms in config.nms:
        token = PurePosixPath(str(nms.auth.token_file))
        assert any(token.parent == d for d in secret_dirs), token


def test_pod_runs_as_the_image_user_with_probes_the_exporter_serves() -> None:
    pod = manifest("deployment")["spec"]["template"]["spec"]
    user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Dockerfile").read_text(), re.M)
    assert user is not None
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        int(user.group(1)),
        int(user.group(2)),
    )
    assert pod["securityContext"]["runAsNonRoot"] is True
    container = exporter_container()
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
