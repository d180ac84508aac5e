"""The Dockerfile, checked without a Docker engine: slim, non-root, every COPY source present
and inside the build context .dockerignore lets through, and its HEALTHCHECK command run for
real against a live server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.support.processes import REPO, free_port
from tests.support.stack import running_simulator

DOCKERFILE = REPO / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions() -> list[Instruction]:
    """Dockerfile instructions with line continuations joined and comments dropped."""
    steps: list[Instruction] = []
    pending: list[str] = []
    for line in DOCKERFILE.read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        pending.append(text.removesuffix("\\").strip())
        if not text.endswith("\\"):
            keyword, _, arguments = " ".join(pending).partition(" ")
            steps.append(Instruction(keyword.upper(), arguments.strip()))
            pending = []
    return steps


def final_stage() -> list[Instruction]:
    steps = instructions()
    last_from = max(i for i, step in enumerate(steps) if step.keyword == "FROM")
    return steps[last_from:]


def one(keyword: str) -> str:
    found = [step.arguments for step in final_stage() if step.keyword == keyword]
    assert len(found) == 1, f"{keyword}: {found}"
    return found[0]


def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    excluded = False
    parts = path.split("/")
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*", "[^/]*")
        regex = regex.replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            excluded = not negated
    return excluded


def test_every_stage_is_slim_python_and_the_image_runs_as_a_created_non_root_user() -> None:
    for step in instructions():
        if step.keyword == "FROM":
            assert re.match(r"python:3\.11-slim\b", step.arguments), step.arguments
    user = one("USER")
    uid, gid = user.split(":")
    assert uid.isdigit() and int(uid) > 0 and gid.isdigit() and int(gid) > 0, user
    created = " ".join(s.arguments for s in final_stage() if s.keyword == "RUN")
    assert f"useradd --system --uid {uid} --gid {gid}" in created
    assert f"groupadd --system --gid {gid}" in created


def test_entrypoint_and_default_command_run_the_exporter_with_the_compose_config_path() -> None:
    assert json.loads(one("ENTRYPOINT")) == ["padtec-exporter"]
    command = json.loads(one("CMD"))
    assert command[0] == "serve"
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    assert compose["services"]["exporter"]["command"] == command


def test_every_copy_source_exists_and_is_in_the_build_context() -> None:
    sources = [
        item
        for step in instructions()
        if step.keyword == "COPY" and not step.arguments.startswith("--from")
        for item in step.arguments.split()[:-1]
    ]
    assert sources
    for item in sources:
        assert (REPO / item).exists(), f"COPY source {item} missing"
        assert not dockerignore_excludes(item), f"COPY source {item} is in .dockerignore"
    assert not dockerignore_excludes("exporter/padtec_exporter/cli/__init__.py")


@pytest.mark.parametrize(
    "path", [".venv/bin/python", "deploy/secrets/nms_token", ".env", ".git/config", "tests/x.py"]
)
def test_secrets_and_local_state_stay_out_of_the_build_context(path: str) -> None:
    assert dockerignore_excludes(path)


def healthcheck_command() -> list[str]:
    arguments = one("HEALTHCHECK")
    exec_form = json.loads(arguments[arguments.index("CMD ") + 4 :])
    assert exec_form[0] == "python"
    return [sys.executable, *exec_form[1:]]


def run_healthcheck(port: int) -> int:
    env = {**os.environ, "HEALTH_PORT": str(port)}
    return subprocess.run(healthcheck_command(), env=env, capture_output=True).returncode


def test_healthcheck_passes_on_a_live_server_and_fails_on_a_dead_port(tmp_path: Path) -> None:
    with running_simulator(tmp_path, "--sites", "1", "--cards-per-site", "1") as sim:
        port = int(sim.url.split(":")[2].split("/")[0])
        assert run_healthcheck(port) == 0
    assert run_healthcheck(port) != 0  # the simulator is gone
    assert run_healthcheck(free_port()) != 0
