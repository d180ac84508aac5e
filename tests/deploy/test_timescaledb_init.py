"""deploy/timescaledb/10-grafana-reader.sh against a real PostgreSQL, as the TimescaleDB image
runs it: Grafana's role logs in with the secret's password and reads every table the store
(started with the compose stack's store.yml) creates afterwards, and cannot write."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.support.postgres import Postgres, running_postgres
from tests.support.processes import REPO, ManagedProcess, cli_command, free_port

pytestmark = pytest.mark.e2e
SCRIPT = REPO / "deploy" / "timescaledb" / "10-grafana-reader.sh"


def as_superuser(server: Postgres, statement: str) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


def require_passwords_for_grafana(server: Postgres) -> None:
    """The test cluster trusts everyone; make the reader role prove its password."""
    hba = server.datadir / "pg_hba.conf"
    rule = "host all grafana_reader 127.0.0.1/32 scram-sha-256\n"
    hba.write_text(rule + hba.read_text())
    as_superuser(server, "SELECT pg_reload_conf()")


def run_init_script(server: Postgres, password_file: Path) -> None:
    env = {
        **os.environ,
        "POSTGRES_USER": "padtec",
        "POSTGRES_DB": "padtec",
        "GRAFANA_STORE_PASSWORD_FILE": str(password_file),
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
    }
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def start_store(workdir: Path, dsn: str) -> tuple[ManagedProcess, str]:
    """The store with the compose stack's store.yml, its paths and addresses moved to loopback."""
    config = yaml.safe_load((REPO / "deploy" / "store" / "store.yml").read_text())
    dsn_file = workdir / "store_dsn"
    dsn_file.write_text(dsn)
    config |= {"dsn_file": str(dsn_file), "listen_address": f"127.0.0.1:{free_port()}"}
    config.pop("alertmanager_url", None)
    path = workdir / "store.yml"
    path.write_text(yaml.safe_dump(config))
    return ManagedProcess("store", cli_command("store", "--config", str(path)), workdir), str(
        config["listen_address"]
    )


def test_grafana_reader_reads_what_the_store_writes(tmp_path: Path) -> None:
    password_file = tmp_path / "grafana_store_password"
    password_file.write_text("s3cret-for-the-test")  # as init-secrets.sh writes it: no newline
    with running_postgres() as server:
        # What the TimescaleDB image does with POSTGRES_USER / POSTGRES_DB.
        as_superuser(server, "CREATE ROLE padtec SUPERUSER LOGIN")
        as_superuser(server, "CREATE DATABASE padtec OWNER padtec")
        run_init_script(server, password_file)
        require_passwords_for_grafana(server)

        owner_dsn = f"host=127.0.0.1 port={server.port} dbname=padtec user=padtec"
        store, listen = start_store(tmp_path, owner_dsn)
        try:
            store.wait_http(f"http://{listen}/readyz", timeout=30)
        finally:
            store.stop()

        with psycopg.connect(owner_dsn) as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                ).fetchall()
            ]
        assert {"series", "measurements", "cards", "alarms"} <= set(tables)

        reader_dsn = f"{owner_dsn.replace('user=padtec', 'user=grafana_reader')} password="
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(reader_dsn + "wrong").close()
        with psycopg.connect(reader_dsn + password_file.read_text()) as conn:
            for table in tables:
                conn.execute(f'SELECT count(*) FROM "{table}"')  # type: ignore[arg-type]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM cards")
