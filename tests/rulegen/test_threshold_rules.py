"""promtool tests generated from thresholds.yml (prometheus/tests/generated-*.yml): every rule and
override fires when crossed, not when not crossed, holds in its hysteresis band and clears;
card down and staleness follow the card's lag behind its NMS; trends ignore the daily cycle and
catch a slow decline. And the README's promise: a threshold change is one line in
thresholds.yml plus `generate-rules`, and then everything CI checks passes again.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.testcases import TESTS_FILE, TREND_TESTS_FILE, render_test_files
from tests.support.processes import REPO, require_binary

THRESHOLDS = REPO / "prometheus" / "thresholds.yml"
TESTS = REPO / "prometheus" / "tests"


def promtool_test(tests_dir: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_binary("promtool"), "test", "rules", *names],
        capture_output=True,
        text=True,
        cwd=tests_dir,
        timeout=600,
    )


def test_generated_tests_match_thresholds_yml() -> None:
    for name, text in render_test_files(load_thresholds(THRESHOLDS)).items():
        committed = (TESTS / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is out of date: run padtec-exporter generate-rules"


def test_generated_tests_cover_every_threshold_rule() -> None:
    text = (TESTS / TESTS_FILE).read_text() + (TESTS / TREND_TESTS_FILE).read_text()
    for rule in load_thresholds(THRESHOLDS).rules:
        assert rule.alert in text, f"no generated test for {rule.name}"
        if rule.trend:
            assert f'threshold=\\"{rule.name}\\"' in text or f'threshold="{rule.name}"' in text


def test_threshold_change_in_a_copy_passes_every_check(tmp_path: Path) -> None:
    """Pump min 12 → 13 in a copy of the repository's rule, test and dashboard files, then
    `padtec-exporter generate-rules` as the README says: promtool tests and the dashboard
    check pass with nothing else touched, and the new number is in rules, tests and
    dashboards."""
    for part in ("prometheus", "grafana"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    thresholds = tmp_path / "prometheus" / "thresholds.yml"
    text = thresholds.read_text()
    changed = text.replace(
        "    condition: RANGE\n    min: 12\n", "    condition: RANGE\n    min: 13\n", 1
    )
    assert changed != text
    thresholds.write_text(changed)
    cli = [sys.executable, "-m", "padtec_exporter.cli", "generate-rules"]
    run = subprocess.run(cli, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr

    tests = sorted(p.name for p in (tmp_path / "prometheus" / "tests").glob("*.yml"))
    result = promtool_test(tmp_path / "prometheus" / "tests", *tests)
    assert result.returncode == 0, result.stdout + result.stderr
    check = subprocess.run(
        [sys.executable, str(tmp_path / "grafana" / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    rules = (tmp_path / "prometheus" / "rules" / "padtec-thresholds.yml").read_text()
    assert "< 13" in rules and "outside [13, 24] dBm" in rules
    assert "outside [13, 24] dBm" in (tmp_path / "prometheus" / "tests" / TESTS_FILE).read_text()
    site = (tmp_path / "grafana" / "dashboards" / "padtec-site.json").read_text()
    assert (
        "+ 13" in site and "+ 13" not in (REPO / "grafana/dashboards/padtec-site.json").read_text()
    )
    # The committed repository still checks clean against itself.
    check_repo = subprocess.run(
        [*cli, "--check"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert check_repo.returncode == 0, check_repo.stdout + check_repo.stderr
