"""Ordinary mistakes end every command with one line naming the problem and the fix, exit
code 1 and no traceback (issue 15, finding 2)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import Postgres, running_postgres
from tests.support.processes import cli_command, free_port


def one_line_error(*args: str, env: dict[str, str] | None = None) -> str:
    """Run the CLI; assert exit 1, a single ``Error:`` line and nothing else; return it."""
    run = subprocess.run(
        cli_command(*args),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PADTEC_EXPORTER_CONFIG": "", **(env or {})},
    )
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert run.returncode == 1, run.stderr
    assert len(errors) == 1, run.stderr
    assert "Traceback" not in run.stderr and "never awaited" not in run.stderr, run.stderr
    # Log lines written before the mistake was found are fine; nothing after the error.
    assert lines[-1] == errors[0], run.stderr
    return errors[0]


@contextlib.contextmanager
def port_taken() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def exporter_config(tmp_path: Path) -> Path:
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    config = tmp_path / "exporter.yml"
    config.write_text(
        f"nms:\n  base_url: http://127.0.0.1:{free_port()}/nms-api\n"
        f"  auth: {{token_file: {token}}}\n"
    )
    return config


@pytest.fixture
def bridge_config(tmp_path: Path) -> Path:
    token = tmp_path / "bot"
    token.write_text("123:abc\n")
    config = tmp_path / "bridge.yml"
    config.write_text(f"telegram:\n  bot_token_file: {token}\n  chat_ids: ['1']\n")
    return config


@pytest.fixture
def dsn_file(tmp_path: Path) -> Path:
    path = tmp_path / "dsn"
    path.write_text(f"host=127.0.0.1 port={free_port()} dbname=padtec user=padtec")
    return path


@pytest.mark.parametrize(
    "command",
    ["serve", "demo", "demo-simulator", "simulate", "store", "notify-bridge"],
)
def test_port_in_use(
    command: str, exporter_config: Path, bridge_config: Path, dsn_file: Path
) -> None:
    with port_taken() as address:
        argv = {
            "serve": ["serve", "--config", str(exporter_config), "--web.listen-address", address],
            "demo": ["demo", "--web.listen-address", address],
            "demo-simulator": [
                "demo",
                "--web.listen-address",
                f"127.0.0.1:{free_port()}",
                "--simulator-listen",
                address,
            ],
            "simulate": ["simulate", "--web.listen-address", address],
            "store": ["store", "--dsn-file", str(dsn_file), "--web.listen-address", address],
            "notify-bridge": [
                "notify-bridge",
                "--config",
                str(bridge_config),
                "--web.listen-address",
                address,
            ],
        }[command]
        line = one_line_error(*argv)
    assert f"cannot listen on {address}: address already in use" in line
    assert "choose another" in line


@pytest.mark.parametrize("command", ["serve", "simulate", "store", "notify-bridge"])
@pytest.mark.parametrize("address", ["localhost:99999", "127.0.0.1", "no-such-host.invalid:80"])
def test_bad_listen_address(
    command: str, address: str, exporter_config: Path, bridge_config: Path, dsn_file: Path
) -> None:
    argv = {
        "serve": ["serve", "--config", str(exporter_config)],
        "simulate": ["simulate"],
        "store": ["store", "--dsn-file", str(dsn_file)],
        "notify-bridge": ["notify-bridge", "--config", str(bridge_config)],
    }[command]
    line = one_line_error(*argv, "--web.listen-address", address)
    assert address in line and "--web.listen-address" in line


def test_old_listen_flag_still_works_as_an_alias(exporter_config: Path) -> None:
    with port_taken() as address:
        line = one_line_error("serve", "--config", str(exporter_config), "--listen", address)
    assert f"cannot listen on {address}" in line


@pytest.mark.parametrize("command", ["serve", "check-config", "simulate", "store", "notify-bridge"])
def test_unreadable_config_file(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yml"
    flag = [] if command == "check-config" else ["--config"]
    line = one_line_error(command, *flag, str(missing))
    assert str(missing) in line and "No such file" in line


@pytest.mark.parametrize("command", ["serve", "check-config", "simulate", "store", "notify-bridge"])
def test_bad_yaml(command: str, tmp_path: Path) -> None:
    config = tmp_path / "broken.yml"
    config.write_text("nms:\n  base_url: [http://x\n  auth: {}\n")
    flag = [] if command == "check-config" else ["--config"]
    line = one_line_error(command, *flag, str(config))
    assert f"{config}: not valid YAML at line" in line


def test_no_config_at_all_says_how_to_give_one() -> None:
    line = one_line_error("serve")
    assert "--config" in line and "PADTEC_EXPORTER_CONFIG" in line


def test_missing_secret_file(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text(f"nms:\n  auth: {{token_file: {tmp_path / 'absent'}}}\n")
    line = one_line_error("serve", "--config", str(config))
    assert "nms[0].auth.token_file" in line and "absent" in line


def test_missing_secret_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "exporter.yml"
    config.write_text("nms:\n  auth: {username: u, password_env: PADTEC_TEST_UNSET_PASSWORD}\n")
    line = one_line_error("serve", "--config", str(config))
    assert "PADTEC_TEST_UNSET_PASSWORD is not set" in line


def test_missing_store_dsn() -> None:
    line = one_line_error("store", env={"PADTEC_STORE_DSN": ""})
    assert "dsn_file" in line and "PADTEC_STORE_DSN" in line


def test_missing_bridge_secret(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yml"
    config.write_text(f"telegram:\n  bot_token_file: {tmp_path / 'absent'}\n")
    line = one_line_error("notify-bridge", "--config", str(config))
    assert "telegram.bot_token" in line and "absent" in line


def test_unreachable_database_is_named_by_check_config(tmp_path: Path, dsn_file: Path) -> None:
    """The store itself waits for its database (it may start before PostgreSQL and answers 503
    meanwhile, tests/store/test_cli.py); check-config says at once that it is not there."""
    config = tmp_path / "store.yml"
    config.write_text(f"dsn_file: {dsn_file}\n")
    line = one_line_error("check-config", "--kind", "store", "--connect", str(config))
    assert "database not reachable" in line and "connection refused" in line.lower()


@pytest.fixture(scope="module")
def password_postgres() -> Iterator[Postgres]:
    """A PostgreSQL asking role ``padtec`` for its password (others trusted, for set-up)."""
    with running_postgres() as server:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            conn.execute("CREATE ROLE padtec LOGIN PASSWORD 'right-Pa55'")
            conn.execute("CREATE DATABASE padtec OWNER padtec")
        hba = server.datadir / "pg_hba.conf"
        hba.write_text("host all padtec 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        server.ctl("reload")
        yield server


def test_wrong_database_password_fails_at_once(tmp_path: Path, password_postgres: Postgres) -> None:
    dsn = tmp_path / "dsn"
    dsn.write_text(
        f"host=127.0.0.1 port={password_postgres.port} dbname=padtec user=padtec "
        "password=wrong-Pa55"
    )
    argv = ["--dsn-file", str(dsn), "--web.listen-address", f"127.0.0.1:{free_port()}"]
    line = one_line_error("store", *argv)
    assert "password authentication failed" in line and "wrong-Pa55" not in line
    assert "check the user, password and database" in line


def test_check_config_connect_names_a_refused_password(
    tmp_path: Path, password_postgres: Postgres
) -> None:
    dsn = tmp_path / "dsn"
    dsn.write_text(
        f"host=127.0.0.1 port={password_postgres.port} dbname=padtec user=padtec "
        "password=wrong-Pa55"
    )
    config = tmp_path / "store.yml"
    config.write_text(f"dsn_file: {dsn}\n")
    line = one_line_error("check-config", "--connect", str(config))
    assert "refused the DSN" in line and "password authentication failed" in line
    assert "wrong-Pa55" not in line
    dsn.write_text(dsn.read_text().replace("wrong-Pa55", "right-Pa55"))
    ok = subprocess.run(
        cli_command("check-config", "--connect", str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert "database reachable" in ok.stdout
