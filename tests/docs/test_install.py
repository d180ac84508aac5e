"""docs/install.md walks a plain Debian machine to running services: what this machine can
check of it is checked here (systemd units, configs, prometheus.yml, the Alertmanager rewrite,
the shell syntax); the PostgreSQL script is applied for real in tests/store/test_init_sql.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.docs.blocks import blocks
from tests.support.processes import REPO, VENV_BIN, cli_command, require_binary

INSTALL = REPO / "docs" / "install.md"
SYSTEMD = REPO / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))
# unit → the config it runs with (both shipped in deploy/systemd/)
CONFIGS = {
    "padtec-exporter.service": "exporter.yml",
    "padtec-store.service": "store.yml",
    "padtec-notify-bridge.service": "notify-bridge.yml",
}


def test_the_readme_links_the_install_operations_and_bridge_pages() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for page in ("docs/install.md", "docs/operations.md", "docs/notify-bridge.md"):
        assert f"]({page})" in readme, page


def test_install_names_every_unit_and_config_it_ships() -> None:
    text = INSTALL.read_text(encoding="utf-8")
    assert {u.name for u in UNITS} == set(CONFIGS)
    for name in [*CONFIGS, *CONFIGS.values(), "prometheus.yml"]:
        assert f"deploy/systemd/{name}" in text, name


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verifies_the_unit(unit: Path, tmp_path: Path) -> None:
    """With the program where the guide installs it (here: the test venv's), systemd finds
    nothing to complain about: no unknown key, no bad value, an executable ExecStart."""
    analyze = require_binary("systemd-analyze")
    copy = tmp_path / unit.name
    copy.write_text(
        unit.read_text().replace(
            "/opt/padtec-exporter/venv/bin/padtec-exporter", str(VENV_BIN / "padtec-exporter")
        )
    )
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_credentials_are_where_its_config_reads_them(unit: Path) -> None:
    text = unit.read_text()
    credentials = dict(re.findall(r"^LoadCredential=(\w+):(\S+)$", text, re.MULTILINE))
    config_name = CONFIGS[unit.name]
    assert f"--config /etc/padtec-exporter/{config_name}" in text
    config = (SYSTEMD / config_name).read_text()
    read = set(re.findall(rf"/run/credentials/{re.escape(unit.name)}/(\w+)", config))
    assert read and read == set(credentials), (read, credentials)
    for source in credentials.values():
        assert source.startswith("/etc/padtec-exporter/secrets/")


@pytest.mark.parametrize("config", sorted(CONFIGS.values()))
def test_shipped_configs_pass_check_config(config: str) -> None:
    result = subprocess.run(
        cli_command("check-config", "--offline", str(SYSTEMD / config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr  # no literal secret in a shipped file


def test_prometheus_yml_passes_promtool(tmp_path: Path) -> None:
    text = (SYSTEMD / "prometheus.yml").read_text()
    copy = tmp_path / "prometheus.yml"
    copy.write_text(
        text.replace("/etc/prometheus/padtec-rules", str(REPO / "prometheus" / "rules"))
    )
    result = subprocess.run(
        [require_binary("promtool"), "check", "config", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    targets = {
        t
        for job in yaml.safe_load(text)["scrape_configs"]
        for sc in job["static_configs"]
        for t in sc["targets"]
    }
    assert {"127.0.0.1:9787", "127.0.0.1:9788", "127.0.0.1:9789"} <= targets


def test_the_alertmanager_rewrite_of_the_guide_passes_amtool(tmp_path: Path) -> None:
    block = next(b for b in blocks(INSTALL, "sh") if "alertmanager/alertmanager.yml" in b)
    sed = block.split(" > ")[0].replace("\\\n", " ")
    out = tmp_path / "alertmanager.yml"
    subprocess.run(f"{sed} > {out}", shell=True, cwd=REPO, check=True, timeout=30)
    rewritten = out.read_text()
    assert "store:9788" not in rewritten.replace("127.0.0.1:9788", "")
    assert "notify-bridge:" not in rewritten
    result = subprocess.run(
        [require_binary("amtool"), "check-config", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_shell_block_of_the_guide_is_valid_bash() -> None:
    for block in blocks(INSTALL, "sh"):
        result = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True)
        assert result.returncode == 0, block + result.stderr


def test_every_padtec_exporter_command_of_the_guide_exists() -> None:
    """Each `padtec-exporter ...` line of the guide names commands and options the CLI has."""
    for block in blocks(INSTALL, "sh"):
        for line in block.splitlines():
            words = line.strip().split()
            if not words or words[0] != "padtec-exporter":
                continue
            command = [w for w in words[1:] if not w.startswith("-")][:1]
            options = [w.split("=")[0] for w in words[1:] if w.startswith("--")]
            help_text = subprocess.run(
                cli_command(*command, "--help") if command else cli_command("--help"),
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            for option in options:
                assert option in help_text, (line, option)
