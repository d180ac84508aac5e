"""Rule files: generated from thresholds.yml, clean for promtool, unit-tested, documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import render_rule_files
from tests.support.processes import REPO, require_binary

RULES = REPO / "prometheus" / "rules"
THRESHOLDS = REPO / "prometheus" / "thresholds.yml"


def rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yml"))


def all_rules() -> list[dict[str, Any]]:
    rules = []
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules += group["rules"]
    return rules


def test_committed_rules_match_thresholds_yml_byte_for_byte() -> None:
    for name, text in render_rule_files(load_thresholds(THRESHOLDS)).items():
        committed = (RULES / name).read_text(encoding="utf-8")
        assert committed == text, f"{name} is out of date: run padtec-exporter generate-rules"


def test_promtool_check_rules_is_clean() -> None:
    promtool = require_binary("promtool")
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, rule_files())], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "lint" not in (result.stdout + result.stderr).lower()


def test_promtool_unit_tests_pass() -> None:
    promtool = require_binary("promtool")
    tests = sorted((REPO / "prometheus" / "tests").glob("*.yml"))
    result = subprocess.run(
        [promtool, "test", "rules", *map(str, tests)],
        capture_output=True,
        text=True,
        cwd=REPO / "prometheus" / "tests",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_says_what_where_and_what_to_do() -> None:
    alerts = [rule for rule in all_rules() if "alert" in rule]
    assert len({rule["alert"] for rule in alerts}) >= 15
    for rule in alerts:
        annotations = rule.get("annotations", {})
        for key in ("summary", "description", "runbook_url"):
            assert annotations.get(key), f"{rule['alert']} has no {key}"
        # NMS alarms get their severity mapped in the expression; every other alert sets one.
        if rule["alert"] != "PadtecNmsAlarm":
            assert rule["labels"]["severity"] in ("MINOR", "MAJOR", "CRITICAL")
        runbook = annotations["runbook_url"].rsplit("/docs/runbooks/", 1)[1]
        page = REPO / "docs" / "runbooks" / runbook
        assert page.is_file(), f"{rule['alert']}: runbook {page} missing"
        assert rule["alert"] in page.read_text(), f"{page} does not name {rule['alert']}"


def test_every_alert_has_a_unit_test() -> None:
    tested = set()
    for path in (REPO / "prometheus" / "tests").glob("*.yml"):
        # alert_rule_test entries, and promql_expr_test on ALERTS{alertname="..."}
        tested |= set(re.findall(r'alertname(?:: |=\\?")(\w+)', path.read_text()))
    # Threshold alerts get generated tests (generated-*.yml, by generate-rules); the others
    # need a hand-written one.
    missing = {rule["alert"] for rule in all_rules() if "alert" in rule} - tested
    assert not missing, f"alerts without a promtool test: {missing}"


def test_changing_a_threshold_is_a_one_line_change(tmp_path: Path) -> None:
    text = THRESHOLDS.read_text()
    changed = text.replace(
        "    condition: RANGE\n    min: 12\n", "    condition: RANGE\n    min: 13\n", 1
    )
    assert changed != text
    (tmp_path / "thresholds.yml").write_text(changed)
    before = render_rule_files(load_thresholds(THRESHOLDS))["padtec-thresholds.yml"]
    after = render_rule_files(load_thresholds(tmp_path / "thresholds.yml"))["padtec-thresholds.yml"]
    diff = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert diff and all("12" in a and "13" in b for a, b in diff)
