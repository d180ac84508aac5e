"""The README says what is true: its two set-up commands are the ones CI and users run, its
configuration example is accepted by the exporter, and every metric family it documents is one
the exporter exposes (and the other way round)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.exporter.conftest import Stack
from tests.support.processes import REPO, cli_command

README = (REPO / "README.md").read_text()


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else len(README)]


def test_the_readme_starts_with_the_two_commands_and_ci_runs_the_test_one() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["./scripts/run", "./scripts/test"]
    assert "./scripts/test" in (REPO / ".ci" / "run").read_text()


def test_the_configuration_example_is_accepted(tmp_path: Path) -> None:
    example = section("Configuration").split("```yaml\n", 1)[1].split("```", 1)[0]
    token = tmp_path / "nms-token"
    token.write_text("token\n")
    config = tmp_path / "config.yml"
    config.write_text(example.replace("/run/secrets/nms-token", str(token)))
    result = subprocess.run(
        cli_command("check-config", str(config)), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr


def documented_families() -> set[str]:
    table = section("Metrics reference")
    names: set[str] = set()
    for row in table.splitlines():
        if not row.startswith("| `padtec_"):
            continue
        cell = row.split("|")[1]
        stems = re.findall(r"`(padtec_\w+|\.\.\.\w+)`", cell)
        for stem in stems:
            # "`padtec_x_successful`, `..._success_timestamp_seconds`" shares the stem before.
            names.add(stem if stem.startswith("padtec_") else _stem(stems[0]) + stem[3:])
    return names


def _stem(name: str) -> str:
    return name.rsplit("_", 1)[0]


async def test_every_documented_family_is_exposed_and_every_exposed_one_documented(
    stack: Stack,
) -> None:
    truth = await stack.truth()
    await stack.fault({"type": "card_down", "card_uid": truth["card_uids"][0]})  # an NMS alarm
    await stack.wait_for(lambda s: "padtec_power_dbm" in s and "padtec_nms_alarm_active" in s)
    text = (await stack.http.get(stack.metrics_url)).text
    exposed = set(re.findall(r"^# TYPE (padtec_\w+) ", text, re.MULTILINE))
    documented = documented_families()
    assert documented - exposed <= {"padtec_measure_value"}  # only for keys of unknown unit
    assert exposed - documented == set()
