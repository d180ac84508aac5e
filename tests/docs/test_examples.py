"""Every shell, YAML and SQL example of the README and docs/ is run or validated (issue 15,
finding 6/8); the kinds of block that are not say why (NOT_CHECKED)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from padtec_exporter.simulate.network import generate
from padtec_exporter.simulate.scenario import load_scenario
from tests.docs.blocks import FENCE, cli_lines
from tests.support.processes import REPO, ManagedProcess, cli_command, free_port

PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
# Fenced blocks of these kinds are not run, and why.
NOT_CHECKED = {
    "": "plain text: diagrams, log lines, page outputs",
    "diff": "an edit to show, applied by hand (its result is tested in tests/alerting)",
    "promql": "prometheus/README.md only; its rules are promtool-tested",
}
# SQL blocks run in tests/store/test_docs_sql.py (store.md and the README).
SQL_RUN_IN = {"README.md", "store.md"}


def every_block() -> list[tuple[str, str, str]]:
    found = []
    for page in PAGES:
        for match in FENCE.finditer(page.read_text(encoding="utf-8")):
            found.append((page.relative_to(REPO).as_posix(), match[1], match[2]))
    return found


BLOCKS = every_block()
SH = [(p, code) for p, kind, code in BLOCKS if kind == "sh"]
YAML = [(p, code) for p, kind, code in BLOCKS if kind == "yaml"]


def test_every_block_is_of_a_kind_that_is_checked_or_says_why_not() -> None:
    kinds = {kind for _, kind, _ in BLOCKS}
    assert kinds <= {"sh", "yaml", "sql", *NOT_CHECKED}, kinds
    for page, kind, _ in BLOCKS:
        if kind == "sql":
            assert Path(page).name in SQL_RUN_IN, page


@pytest.mark.parametrize(("page", "code"), SH, ids=[f"{p}:{c[:30]}" for p, c in SH])
def test_shell_example_is_valid_bash_naming_real_commands(page: str, code: str) -> None:
    syntax = subprocess.run(["bash", "-n"], input=code, capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    for path, options in cli_lines(code):
        help_text = subprocess.run(
            cli_command(*path, "--help"), capture_output=True, text=True, timeout=60
        )
        assert help_text.returncode == 0, (page, path, help_text.stderr)
        for option in options:
            assert option in help_text.stdout, (page, path, option)
    for script in re.findall(r"(?:^|\s)\./((?:scripts|deploy)/[\w./-]+)", code):
        assert (REPO / script).is_file(), script


def kind_of(doc: object) -> str | None:
    if not isinstance(doc, dict):
        return None
    if "nms" in doc or "collect" in doc:
        return "exporter"
    if "dsn_file" in doc or "retention" in doc:
        return "store"
    if "twilio" in doc or "telegram" in doc:
        return "bridge"
    return None


@pytest.mark.parametrize(("page", "code"), YAML, ids=[f"{p}:{c[:30]}" for p, c in YAML])
def test_yaml_example_parses_and_configs_pass_check_config(
    page: str, code: str, tmp_path: Path
) -> None:
    docs = list(yaml.safe_load_all(code))
    assert docs and all(d is not None for d in docs)
    kind = kind_of(docs[0])
    if kind is None:
        return  # Prometheus / web-config fragments: tests/deploy validates the files they show
    path = tmp_path / "example.yml"
    # "..." stands for more of the same in a list; a fragment without nms gets one.
    text = code.replace(", ...]", "]")
    if kind == "exporter" and "nms" not in docs[0]:
        text = "nms: {auth: {token: x}}\n" + text
    path.write_text(text)
    result = subprocess.run(
        cli_command("check-config", "--offline", "--kind", kind, str(path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, (page, result.stderr)


def test_simulator_scenario_example_uses_cards_of_the_default_network(tmp_path: Path) -> None:
    code = next(c for p, c in YAML if p == "docs/simulator.md" and "at_seconds" in c)
    path = tmp_path / "scenario.yml"
    path.write_text(code)
    steps = load_scenario(path)
    cards = {c.uid for c in generate(42, 6, 8, 0).cards}
    named = {s.fault["card_uid"] for s in steps if s.fault and "card_uid" in s.fault}
    assert named and named <= cards


def test_simulator_scenario_example_starts_the_simulator(tmp_path: Path) -> None:
    """`simulate --scenario` refuses a scenario naming a card it does not have: this one runs."""
    code = next(c for p, c in YAML if p == "docs/simulator.md" and "at_seconds" in c)
    (tmp_path / "scenario.yml").write_text(code)
    port = free_port()
    argv = ["simulate", "--web.listen-address", f"127.0.0.1:{port}"]
    proc = ManagedProcess(
        "simulator",
        cli_command(*argv, "--scenario", str(tmp_path / "scenario.yml")),
        tmp_path,
    )
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/control/truth", timeout=30)
    finally:
        proc.stop()


def test_the_simulator_walkthrough_runs(tmp_path: Path) -> None:
    """docs/simulator.md's shell block, as written (its port aside): login, then a page."""
    code = next(c for p, c in SH if p == "docs/simulator.md")
    first, rest = code.split("\n", 1)
    port = free_port()  # the walkthrough's 8181 may be taken on this machine
    argv = [w.replace("127.0.0.1:8181", f"127.0.0.1:{port}") for w in first.split()[1:]]
    proc = ManagedProcess("simulator", cli_command(*argv), tmp_path)
    try:
        proc.wait_http(f"http://127.0.0.1:{port}/control/truth", timeout=30)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", rest.replace("localhost:8181", f"127.0.0.1:{port}")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        proc.stop()
    assert result.returncode == 0, result.stderr
    assert '"measureName"' in result.stdout or "measureName" in result.stdout, result.stdout


LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_links_and_paths_stay_inside_the_repository(page: Path) -> None:
    """Every relative link resolves to a file of the repository, and no page points at files
    beside it (`../shared/...` was named three times, finding 6)."""
    text = page.read_text(encoding="utf-8")
    assert "../shared/" not in text
    for target in LINK.findall(text):
        if "://" in target or target.startswith("mailto:"):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.is_relative_to(REPO) and resolved.exists(), target
