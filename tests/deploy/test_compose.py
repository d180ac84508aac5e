"""The compose stack (and its HA override) and every config it mounts, validated without a
Docker engine: the compose-spec schema, mounts, health checks, dependencies, ports, secrets,
state volumes, and each mounted config checked by its own program (promtool, amtool, our
config loaders, YAML for Grafana's provisioning)."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from padtec_exporter.config import load_config
from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.notify.config import BridgeConfig
from padtec_exporter.store.config import StoreConfig
from tests.support.processes import REPO, require_binary

COMPOSE = REPO / "docker-compose.yml"
HA_OVERRIDE = REPO / "deploy" / "examples" / "docker-compose.ha.yml"
BIN = Path(sys.executable).parent
OWN_IMAGE_HEALTH_PORT = "9787"  # the Dockerfile HEALTHCHECK's default HEALTH_PORT
# Where each third-party image keeps its state; a named volume must be mounted there.
STATE_DIRS = {
    "prom/prometheus": "/prometheus",
    "prom/alertmanager": "/alertmanager",
    "grafana/grafana": "/var/lib/grafana",
    "timescale/timescaledb": "/var/lib/postgresql/data",
}
# Our config loaders, by CLI command: each mounted config must load with its own.
LOADERS: dict[str, Any] = {
    "serve": load_config,
    "store": lambda path: load_struct(path, StoreConfig),
    "notify-bridge": lambda path: load_struct(path, BridgeConfig),
}


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text())
    return doc


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → source of each volume (short syntax, as this repo writes them)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`docker compose -f base -f override` for the keys our files use: services merge key by
    key, volumes by container path, maps (environment, depends_on) by key, the rest replaced."""
    merged = {**base, "services": dict(base["services"])}
    for key in ("volumes", "secrets"):
        merged[key] = {**base.get(key, {}), **override.get(key, {})}
    for name, extra in override["services"].items():
        service = dict(merged["services"].get(name, {}))
        for key, value in extra.items():
            if key == "volumes":
                by_target = {**mounts(service), **mounts(extra)}
                service[key] = [f"{source}:{target}" for target, source in by_target.items()]
            elif isinstance(value, dict):
                service[key] = {**service.get(key, {}), **value}
            else:
                service[key] = value
        merged["services"][name] = service
    return merged


STACKS = {"stack": lambda: load(COMPOSE), "ha": lambda: merge(load(COMPOSE), load(HA_OVERRIDE))}


@pytest.fixture(params=sorted(STACKS))
def stack(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The compose model: the stack alone, and the stack with the HA override."""
    result: dict[str, Any] = STACKS[request.param]()
    return result


def hosts(stack: dict[str, Any]) -> set[str]:
    names = set(stack["services"])
    for service in stack["services"].values():
        for network in (service.get("networks") or {}).values():
            names |= set((network or {}).get("aliases", []))
    return names


def own_image(service: dict[str, Any]) -> bool:
    return service.get("build") == "."


@pytest.mark.parametrize("path", [COMPOSE, HA_OVERRIDE], ids=lambda p: p.name)
def test_compose_files_match_the_compose_spec_schema(path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_mount_exists_or_is_a_declared_volume(stack: dict[str, Any]) -> None:
    for name, service in stack["services"].items():
        for source in mounts(service).values():
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in stack["volumes"], f"{name}: undeclared volume {source}"


def test_every_piece_of_state_lives_on_a_named_volume(stack: dict[str, Any]) -> None:
    for name, service in stack["services"].items():
        state_dir = STATE_DIRS.get(str(service.get("image", "")).split(":")[0])
        if state_dir is None:
            continue
        assert mounts(service).get(state_dir) in stack["volumes"], f"{name}: {state_dir}"


def test_every_service_has_a_health_check_and_valid_dependencies(stack: dict[str, Any]) -> None:
    services = stack["services"]
    dockerfile = (REPO / "Dockerfile").read_text()
    for name, service in services.items():
        assert "healthcheck" in service or (own_image(service) and "HEALTHCHECK" in dockerfile), (
            name
        )
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert rule["condition"] == "service_healthy", f"{name} → {dependency}"
            # A dependency that cannot be active with this service would stop `up`.
            assert set(services[dependency].get("profiles", [])) <= set(
                service.get("profiles", [])
            ), f"{name} → {dependency}: profiles"


def listen_port(service: dict[str, Any]) -> str:
    """The port a padtec service listens on: its --web.listen-address (or older --listen)
    flag, else its config file's."""
    command = service["command"]
    for flag in ("--web.listen-address", "--listen"):
        if flag in command:
            return str(command[command.index(flag) + 1].rsplit(":", 1)[1])
    config = load(REPO / mounts(service)[command[command.index("--config") + 1]])
    address = config.get("web", config).get("listen_address")
    return str(address).rsplit(":", 1)[1]


def test_health_check_port_is_the_port_each_padtec_service_listens_on() -> None:
    for name, service in load(COMPOSE)["services"].items():
        if own_image(service):
            health_port = service.get("environment", {}).get("HEALTH_PORT", OWN_IMAGE_HEALTH_PORT)
            assert listen_port(service) == health_port, name


def test_every_padtec_config_loads_with_its_own_loader() -> None:
    checked = 0
    for service in load(COMPOSE)["services"].values():
        command = service.get("command", [])
        if not own_image(service) or "--config" not in command:
            continue
        path = REPO / mounts(service)[command[command.index("--config") + 1]]
        LOADERS[command[0]](path)  # raises ConfigError naming the key when wrong
        checked += 1
    assert checked >= 4  # exporter, exporter-demo, store, notify-bridge


def provided_secret_paths(service: dict[str, Any]) -> set[str]:
    """Where the service's secrets appear in its container (compose: /run/secrets/<target>)."""
    paths = set()
    for secret in service.get("secrets", []):
        long_form = secret if isinstance(secret, dict) else {"source": secret}
        target = str(long_form.get("target", long_form["source"]))
        paths.add(target if target.startswith("/") else f"/run/secrets/{target}")
    return paths


def referenced_secret_paths(service: dict[str, Any]) -> set[str]:
    """Secret paths named in the service's mounted files and its environment."""
    texts = [str(v) for v in (service.get("environment") or {}).values()]
    for source in mounts(service).values():
        path = REPO / source
        files = [path] if path.is_file() else list(path.rglob("*")) if path.is_dir() else []
        texts += [f.read_text(errors="replace") for f in files if f.is_file()]
    return set(re.findall(r"/[\w./-]*/secrets/[\w.-]+", "\n".join(texts)))


def test_every_secret_a_service_reads_is_mounted_into_it(stack: dict[str, Any]) -> None:
    used = set()
    for name, service in stack["services"].items():
        missing = referenced_secret_paths(service) - provided_secret_paths(service)
        assert not missing, f"{name} reads secrets it does not mount: {missing}"
        for secret in service.get("secrets", []):
            source = secret if isinstance(secret, str) else secret["source"]
            assert source in stack["secrets"], f"{name}: undeclared secret {source}"
            used.add(source)
    assert used == set(stack["secrets"]), "declared but unused secrets"


def test_init_script_creates_every_secret_readable_by_containers_only_via_mounts(
    tmp_path: Path,
) -> None:
    declared = load(COMPOSE)["secrets"]
    secrets_dir = tmp_path / "deploy" / "secrets"
    secrets_dir.mkdir(parents=True)
    script = tmp_path / "deploy" / "init-secrets.sh"
    script.write_text((REPO / "deploy" / "init-secrets.sh").read_text())
    subprocess.run(["sh", str(script)], check=True, capture_output=True)
    first = {p.name: p.read_text() for p in secrets_dir.iterdir()}
    for secret in declared.values():
        assert secret["file"].startswith("./deploy/secrets/")
        path = secrets_dir / Path(secret["file"]).name
        # Containers run as other uids and compose keeps the host mode: world-readable file...
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
        assert path.read_text() and not path.read_text().endswith("\n"), path.name
    # ...inside a directory only its owner can enter.
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    passwords = [first[n] for n in ("postgres_password", "grafana_admin_password")]
    assert all(re.fullmatch(r"[A-Za-z0-9]{32}", p) for p in passwords) and len(set(passwords)) == 2
    assert f"password={first['postgres_password']}" in first["store_dsn"]
    # Running it again keeps what is there (a real token put in place is never overwritten).
    subprocess.run(["sh", str(script)], check=True, capture_output=True)
    assert {p.name: p.read_text() for p in secrets_dir.iterdir()} == first


def test_secret_files_are_never_committed() -> None:
    ignored = (REPO / "deploy" / "secrets" / ".gitignore").read_text().splitlines()
    assert "*" in ignored
    assert all(line.startswith(("#", "!", "*")) for line in ignored if line)


def test_only_services_with_a_login_are_published_beyond_the_host(stack: dict[str, Any]) -> None:
    """Prometheus, Alertmanager and the exporter have no auth in this stack: loopback only."""
    for name, service in stack["services"].items():
        for port in service.get("ports", []):
            assert name == "grafana" or str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def rules_at_repo_paths(config_text: str, tmp_path: Path, name: str) -> Path:
    """Prometheus' config names rule files by container path; promtool reads the repo's."""
    copy = tmp_path / name
    copy.write_text(
        config_text.replace("/etc/prometheus/rules", str(REPO / "prometheus" / "rules"))
    )
    return copy


def test_prometheus_config_is_valid_with_its_rules_and_targets_compose_services(
    tmp_path: Path,
) -> None:
    text = (REPO / "prometheus" / "prometheus.yml").read_text()
    result = subprocess.run(
        [
            require_binary("promtool"),
            "check",
            "config",
            str(rules_at_repo_paths(text, tmp_path, "prometheus.yml")),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 rule files found" not in result.stdout, result.stdout
    known = hosts(load(COMPOSE)) | {"localhost"}
    for target in prometheus_targets(yaml.safe_load(text)):
        assert target.split(":")[0] in known, target


def prometheus_targets(doc: dict[str, Any]) -> list[str]:
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
    return targets


def test_alertmanager_config_is_valid_and_its_webhooks_are_compose_services() -> None:
    config = REPO / "alertmanager" / "alertmanager.yml"
    result = subprocess.run(
        [require_binary("amtool"), "check-config", str(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    doc = load(config)
    for receiver in doc["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            assert re.sub(r"https?://([^:/]+).*", r"\1", hook["url"]) in hosts(load(COMPOSE))
    # Templates are read from the directory compose mounts.
    alertmanager = load(COMPOSE)["services"]["alertmanager"]
    for pattern in doc.get("templates", []):
        assert Path(pattern).parent.as_posix() in mounts(alertmanager), pattern


def test_grafana_provisioning_parses_and_points_at_what_compose_provides() -> None:
    grafana = load(COMPOSE)["services"]["grafana"]
    provisioning = REPO / "grafana" / "provisioning"
    for path in provisioning.rglob("*.y*ml"):
        assert isinstance(load(path), dict), path
    sources = load(provisioning / "datasources" / "padtec.yml")
    for source in sources["datasources"]:
        host = re.sub(r"^(https?://)?([^:/]+).*", r"\2", source["url"])
        assert host in hosts(load(COMPOSE)), source["name"]
    dashboards = load(provisioning / "dashboards" / "padtec.yml")
    for provider in dashboards["providers"]:
        mounted = REPO / mounts(grafana)[provider["options"]["path"]]
        assert list(mounted.glob("*.json")), f"no dashboards at {provider['options']['path']}"


SECRET_KEY = re.compile(r"(password|passwd|token|secret|api_key|auth_token)\s*:\s*(.+)$", re.I)
# The simulator's built-in demo account guards simulated data only; it is documented as such.
ALLOWED = {"SIMULATOR_PASSWORD: admin"}
CONFIG_FILES = [
    *REPO.glob("*.yml"),
    *REPO.glob("deploy/**/*.yml"),
    *REPO.glob("deploy/**/*.yaml"),
    *REPO.glob("alertmanager/*.yml"),
    *REPO.glob("prometheus/*.yml"),
    *REPO.glob("grafana/provisioning/**/*.yml"),
]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(REPO)))
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


def test_a_mounted_config_with_a_wrong_key_is_refused(tmp_path: Path) -> None:
    """The loader check above can fail: a typo in a mounted config is caught, named."""
    broken = tmp_path / "store.yml"
    broken.write_text((REPO / "deploy" / "store" / "store.yml").read_text() + "listen_adress: x\n")
    with pytest.raises(ConfigError, match="listen_adress"):
        LOADERS["store"](broken)
