"""The compose stack and every config it mounts, validated without a Docker engine."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.processes import REPO, require_binary

COMPOSE = REPO / "docker-compose.yml"
BIN = Path(sys.executable).parent


def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return doc


def test_compose_file_matches_the_compose_spec_schema() -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_bind_mounted_path_exists() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"


def test_every_service_has_a_health_check_and_valid_dependencies() -> None:
    services = compose()["services"]
    dockerfile = (REPO / "Dockerfile").read_text()
    for name, service in services.items():
        own_image = service.get("build") == "."
        assert "healthcheck" in service or (own_image and "HEALTHCHECK" in dockerfile), name
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] in (
                "service_healthy",
                "service_started",
                "service_completed_successfully",
            )


def test_health_ports_match_what_each_padtec_service_listens_on() -> None:
    for name, service in compose()["services"].items():
        if service.get("build") != ".":
            continue
        port = service.get("environment", {}).get("HEALTH_PORT", "9787")
        command = " ".join(service["command"])
        config_files = [REPO / v.split(":")[0] for v in service.get("volumes", [])]
        text = command + " ".join(p.read_text() for p in config_files if p.is_file())
        assert f":{port}" in text, f"{name}: nothing listens on {port}"


def test_secrets_are_files_the_init_script_creates(tmp_path: Path) -> None:
    declared = compose()["secrets"]
    for secret in declared.values():
        assert secret["file"].startswith("./deploy/secrets/")
    copy = tmp_path / "deploy"
    (copy / "secrets").mkdir(parents=True)
    shutil.copy(REPO / "deploy" / "init-secrets.sh", copy)
    subprocess.run(["sh", str(copy / "init-secrets.sh")], check=True, capture_output=True)
    made = {p.name for p in (copy / "secrets").iterdir()}
    assert {Path(s["file"]).name for s in declared.values()} <= made
    ignored = (REPO / "deploy" / "secrets" / ".gitignore").read_text()
    assert ignored.splitlines()[1] == "*"


def test_prometheus_config_is_valid_and_targets_exist(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    config = (REPO / "prometheus" / "prometheus.yml").read_text()
    copy = tmp_path / "prometheus.yml"
    copy.write_text(config.replace("/etc/prometheus/rules", str(REPO / "prometheus" / "rules")))
    result = subprocess.run(
        [promtool, "check", "config", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    hosts = _hosts()
    doc = yaml.safe_load(config)
    targets = [
        t for job in doc["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]
    ]
    targets += [
        t
        for am in doc["alerting"]["alertmanagers"]
        for sc in am["static_configs"]
        for t in sc["targets"]
    ]
    targets += [re.sub(r"https?://([^/]+)/.*", r"\1", rw["url"]) for rw in doc["remote_write"]]
    for target in targets:
        assert target.split(":")[0] in hosts | {"localhost"}, target


def test_alertmanager_config_is_valid_and_its_webhooks_exist() -> None:
    amtool = require_binary("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(REPO / "alertmanager" / "alertmanager.yml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = yaml.safe_load((REPO / "alertmanager" / "alertmanager.yml").read_text())
    for receiver in doc["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            assert re.sub(r"https?://([^:/]+).*", r"\1", hook["url"]) in _hosts()


def test_grafana_provisioning_parses_and_points_at_services() -> None:
    sources = yaml.safe_load(
        (REPO / "grafana" / "provisioning" / "datasources" / "padtec.yml").read_text()
    )
    for source in sources["datasources"]:
        host = re.sub(r"^(https?://)?([^:/]+).*", r"\2", source["url"])
        assert host in _hosts(), source["name"]
    yaml.safe_load((REPO / "grafana" / "provisioning" / "dashboards" / "padtec.yml").read_text())


def test_dockerfile_is_slim_non_root_and_healthchecked() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert re.search(r"^USER (?!root|0\b)", text, re.M)
    assert "HEALTHCHECK" in text and 'ENTRYPOINT ["padtec-exporter"]' in text
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        for item in source.split():
            assert (REPO / item).exists(), f"COPY source {item} missing"


SECRET_KEY = re.compile(r"(password|passwd|token|secret|api_key|auth_token)\s*:\s*(.+)$", re.I)
# The simulator's built-in demo account guards simulated data only; it is documented as such.
ALLOWED = {"SIMULATOR_PASSWORD: admin"}


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in [
            *REPO.glob("*.yml"),
            *REPO.glob("deploy/**/*.yml"),
            *REPO.glob("deploy/**/*.yaml"),
            *REPO.glob("alertmanager/*.yml"),
            *REPO.glob("prometheus/*.yml"),
            *REPO.glob("grafana/provisioning/**/*.yml"),
        ]
    ],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_config_files_carry_no_literal_secrets(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = SECRET_KEY.search(line.split("#")[0])
        if not match or line.split("#")[0].strip() in ALLOWED:
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        # References to where a secret lives are fine; only values are not.
        if key.endswith(("_file", "_env")) or value.startswith(
            ("$__file{", "/run/secrets", "/var/run/secrets", "{secretName:", "{file:")
        ):
            continue
        assert value in ("", "null", "{}") or value.endswith(("_file", "_env")), (
            f"{path}: literal secret? {line.strip()}"
        )


def _hosts() -> set[str]:
    services = compose()["services"]
    names = set(services)
    for service in services.values():
        for network in (service.get("networks") or {}).values():
            names |= set((network or {}).get("aliases", []))
    return names
