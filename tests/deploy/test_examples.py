"""Config snippets of docs/scaling.md are real configs: promtool accepts them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.processes import REPO, require_binary


@pytest.mark.parametrize("name", ["prometheus-ha.yml", "prometheus-sharded.yml"])
def test_promtool_accepts_the_example(name: str, tmp_path: Path) -> None:
    text = (REPO / "deploy" / "examples" / name).read_text()
    copy = tmp_path / name
    copy.write_text(text.replace("/etc/prometheus/rules", str(REPO / "prometheus" / "rules")))
    result = subprocess.run(
        [require_binary("promtool"), "check", "config", str(copy)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_scaling_doc_shows_the_tested_snippets() -> None:
    doc = (REPO / "docs" / "scaling.md").read_text()
    for name in ("prometheus-ha.yml", "prometheus-sharded.yml", "alertmanager-cluster.md"):
        assert name in doc
