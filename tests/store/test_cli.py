"""`padtec-exporter store` as a user runs it: errors named, secrets kept out of logs, and no
acknowledgement while the database is not there."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest

from padtec_exporter.store import schema
from padtec_exporter.store.config import RetentionConfig
from tests.store.test_remote_write import payload
from tests.support.postgres import Postgres
from tests.support.processes import ManagedProcess, cli_command, free_port, wait_http

PASSWORD = "s3cret-Pa55"


def status_of(request: urllib.request.Request | str) -> int:
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_unknown_config_key_and_missing_dsn_are_named(tmp_path: Path) -> None:
    config = tmp_path / "store.yml"
    config.write_text("listen_adress: 127.0.0.1:1\n")
    run = subprocess.run(
        cli_command("store", "--config", str(config)), capture_output=True, text=True, timeout=30
    )
    assert run.returncode != 0 and "listen_adress" in run.stderr
    config.write_text("dsn_env: PADTEC_TEST_NO_SUCH_VARIABLE\n")
    run = subprocess.run(
        cli_command("store", "--config", str(config)), capture_output=True, text=True, timeout=30
    )
    assert run.returncode != 0 and "dsn" in run.stderr


def test_no_database_yet_means_503_and_the_password_is_never_logged(tmp_path: Path) -> None:
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text(
        f"host=127.0.0.1 port={free_port()} dbname=store user=padtec password={PASSWORD}"
    )
    port = free_port()
    proc = ManagedProcess(
        "store",
        cli_command("store", "--listen", f"127.0.0.1:{port}", "--dsn-file", str(dsn_file)),
        tmp_path,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        assert status_of(f"http://127.0.0.1:{port}/readyz") == 503
        write = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/write", data=payload(), method="POST"
        )
        assert status_of(write) == 503  # Prometheus keeps the batch and retries
        deadline = time.monotonic() + 10
        while "database not reachable" not in proc.log():
            assert time.monotonic() < deadline, proc.log()
            time.sleep(0.2)
    finally:
        proc.stop()
    assert PASSWORD not in proc.log_path.read_text()


def test_timescaledb_ddl_is_valid_postgresql_syntax(postgres: Postgres) -> None:
    """TimescaleDB is not installable here: its DDL is only parsed, never run. A simple-protocol
    query is parsed whole before its first statement runs, so a syntax error anywhere surfaces
    before the leading statement raises its marker."""
    ddl = schema.timescale(RetentionConfig(raw_days=31, hourly_days=366, daily_days=1100))
    assert "INTERVAL '31 days'" in ddl and "INTERVAL '1100 days'" in ddl
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="parsed"):
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'parsed'; END $$;" + ddl)
        with pytest.raises(psycopg.errors.SyntaxError):  # the check can fail
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'parsed'; END $$;" + ddl + " SELEC 1;")
