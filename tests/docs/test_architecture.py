"""docs/architecture.md states the import rules the test command enforces: the layers it shows
are the import-linter contract's, and the contracts hold for the code as it is."""

from __future__ import annotations

import subprocess
import tomllib

from tests.support.processes import REPO

ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text()


def contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    found: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return found


def test_the_documented_layers_are_the_enforced_ones() -> None:
    block = ARCHITECTURE.split("<!-- layers:", 1)[1].split("```", 2)[1]
    documented = [line.strip() for line in block.splitlines() if line.strip()]
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    assert documented == layers["layers"]


def test_the_code_keeps_every_import_contract() -> None:
    result = subprocess.run(
        [str(REPO / ".venv" / "bin" / "lint-imports"), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert f"{len(contracts())} kept, 0 broken" in result.stdout
