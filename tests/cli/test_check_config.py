"""``check-config`` checks what breaks at run time, for every kind of config (finding 3)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from padtec_exporter.config import load_config
from tests.support.processes import REPO, cli_command

NMS = "nms:\n  base_url: http://127.0.0.1:8181/nms-api\n"


def check(
    path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command("check-config", *args, str(path)),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def write(tmp_path: Path, text: str, name: str = "config.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_token_file_that_does_not_exist_fails(tmp_path: Path) -> None:
    path = write(tmp_path, NMS + f"  auth: {{token_file: {tmp_path}/absent}}\n")
    result = check(path)
    assert result.returncode == 1
    assert "nms[0].auth.token_file" in result.stderr and "No such file" in result.stderr
    assert check(path, "--offline").returncode == 0  # a config for another machine


def test_an_unset_token_env_fails_and_a_set_one_passes(tmp_path: Path) -> None:
    path = write(tmp_path, NMS + "  auth: {token_env: PADTEC_TEST_TOKEN_15}\n")
    unset = check(path, env={"PADTEC_TEST_TOKEN_15": ""})
    assert unset.returncode == 1 and "PADTEC_TEST_TOKEN_15 is not set" in unset.stderr
    assert check(path, env={"PADTEC_TEST_TOKEN_15": "s3cret"}).returncode == 0


def test_every_secret_problem_is_listed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "nms:\n"
        f"  - {{name: a, auth: {{token_file: {tmp_path}/absent}}}}\n"
        "  - {name: b, auth: {username: u, password_env: PADTEC_TEST_UNSET_15}}\n",
    )
    result = check(path, env={"PADTEC_TEST_UNSET_15": ""})
    assert result.returncode == 1
    assert "nms[0].auth.token_file" in result.stderr and "nms[1].auth.password_env" in result.stderr


def test_an_empty_file_says_what_is_missing(tmp_path: Path) -> None:
    result = check(write(tmp_path, ""))
    assert result.returncode == 1 and "the file is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_literal_secret_is_warned_about_but_works(tmp_path: Path) -> None:
    path = write(tmp_path, NMS + "  auth: {username: noc, password: Hunter2-x}\n")
    result = check(path)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and "nms[0].auth.password" in result.stderr
    assert "password_file or password_env" in result.stderr
    assert "Hunter2-x" not in result.stderr + result.stdout


@pytest.mark.parametrize("value", ["true", '"true"'])
def test_alarm_filter_booleans_quoted_or_not(tmp_path: Path, value: str) -> None:
    path = write(
        tmp_path,
        NMS
        + "  auth: {token_env: PADTEC_TEST_TOKEN_15}\n"
        + "collect:\n  alarms:\n    interval_seconds: 60\n"
        + f"    filters: [{{alarmIsActive: {value}}}]\n",
    )
    result = check(path, env={"PADTEC_TEST_TOKEN_15": "t"})
    assert result.returncode == 0, result.stderr
    # What the API receives is the string it documents.
    assert load_config(path).collect.tiers["alarms"].filters == [{"alarmIsActive": "true"}]


def test_a_bad_enum_lists_the_valid_values(tmp_path: Path) -> None:
    path = write(tmp_path, NMS + "  auth: {token: x}\nlog: {level: verbose}\n")
    result = check(path)
    assert result.returncode == 1
    assert "log.level" in result.stderr and "valid values: debug, info, warning, error" in (
        result.stderr
    )


def test_a_wrong_type_is_said_in_words(tmp_path: Path) -> None:
    path = write(tmp_path, NMS + "  auth: {token: x}\n  page_size: many\n")
    result = check(path)
    assert result.returncode == 1
    assert "nms[0].page_size" in result.stderr and "Expected an integer, got a string" in (
        result.stderr
    )


def test_store_config_is_detected_and_checked(tmp_path: Path) -> None:
    dsn = write(tmp_path, "host=127.0.0.1 dbname=padtec user=padtec", "dsn")
    good = write(tmp_path, f"listen_address: 127.0.0.1:9788\ndsn_file: {dsn}\n", "store.yml")
    result = check(good)
    assert result.returncode == 0, result.stderr
    assert "OK (store)" in result.stdout
    bad = write(
        tmp_path,
        f"listen_address: 127.0.0.1:99999\ndsn_file: {tmp_path}/nodsn\nbackend: timescale\n",
        "bad-store.yml",
    )
    result = check(bad)
    assert result.returncode == 1
    assert "listen_address" in result.stderr and "nodsn" in result.stderr
    assert "valid values: auto, postgresql, timescaledb" in result.stderr


def test_the_shipped_store_and_bridge_configs_are_understood() -> None:
    for path, kind in [
        (REPO / "deploy" / "store" / "store.yml", "store"),
        (REPO / "alertmanager" / "notify-bridge.yml", "bridge"),
    ]:
        result = check(path, "--offline")
        assert result.returncode == 0, result.stderr
        assert f"OK ({kind})" in result.stdout


def test_bridge_secrets_and_severities_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"telegram: {{bot_token_file: {tmp_path}/absent, chat_ids: ['1']}}\n"
        "sms_recipients: {CRITICAL: ['+1'], SEVERE: ['+2']}\n",
        "bridge.yml",
    )
    result = check(path, "--kind", "bridge")
    assert result.returncode == 1
    assert "telegram.bot_token" in result.stderr and "absent" in result.stderr
    assert "sms_recipients.SEVERE" in result.stderr and "CRITICAL, MAJOR" in result.stderr


def test_a_config_of_no_known_kind_asks_for_kind(tmp_path: Path) -> None:
    result = check(write(tmp_path, "listen_address: 127.0.0.1:1\n"))
    assert result.returncode == 1 and "--kind" in result.stderr
    result = check(write(tmp_path, "listen_address: 127.0.0.1:1\n"), "--kind", "bridge")
    assert result.returncode == 1 and "no channel" in result.stderr
