"""scripts/run, scripts/test and the top-level command as a new user meets them (finding 7/8):
``--version``, a LICENSE, a relative config path from anywhere, no reinstall on every switch."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from padtec_exporter import __version__
from tests.support.processes import REPO, VENV_BIN, cli_command


def test_top_level_version_flag() -> None:
    for flag in ("--version", "-V"):
        result = subprocess.run(cli_command(flag), capture_output=True, text=True, timeout=30)
        assert result.returncode == 0
        assert result.stdout.startswith(f"padtec-exporter {__version__} (python 3.")


def test_license_is_the_apache_2_text_pyproject_names() -> None:
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and len(text) > 10_000
    assert 'license = "Apache-2.0"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")


def test_run_resolves_a_relative_config_from_the_callers_directory(tmp_path: Path) -> None:
    (tmp_path / "mine.yml").write_text("nms:\n  auth: {token_env: PADTEC_TEST_RUN_TOKEN}\n")
    result = subprocess.run(
        [str(REPO / "scripts" / "run"), "check-config", "mine.yml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "PADTEC_TEST_RUN_TOKEN": "t"},
    )
    assert result.returncode == 0, result.stderr
    assert "mine.yml: OK (exporter)" in result.stdout


def ensure_venv(workdir: Path, extras: str) -> str:
    result = subprocess.run(
        ["bash", "-c", f'. "{REPO}/scripts/lib/setup.sh" && ensure_venv "{extras}"'],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_switching_between_run_and_test_installs_nothing(tmp_path: Path) -> None:
    """After a dev install (scripts/test), the runtime one (scripts/run) is already there, and
    the dev stamp survives a run: neither call reinstalls."""
    pyproject = (REPO / "pyproject.toml").read_bytes()
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(VENV_BIN / "python")
    stamp = hashlib.sha256(pyproject).hexdigest()[:16]
    (venv / f".installed-{stamp}-dev").touch()
    for extras in ("", "dev", "", "dev"):
        assert "installing" not in ensure_venv(tmp_path, extras)
    assert (venv / f".installed-{stamp}-dev").exists()
