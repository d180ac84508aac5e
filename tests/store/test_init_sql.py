"""``store init-sql`` sets up a plain PostgreSQL as docs/install.md says (finding 4): the
store's owner creates its schema, Grafana's reader can read every table and write none."""

from __future__ import annotations

import subprocess

import httpx2
import psycopg
import pytest

from padtec_exporter.store import StoreConfig
from tests.store.conftest import running_receiver
from tests.store.test_remote_write import payload
from tests.support.postgres import Postgres, _bin
from tests.support.processes import cli_command

NAMES = ["--database", "padtec_init", "--owner", "padtec_init", "--reader", "padtec_reader"]


def apply_init_sql(postgres: Postgres) -> None:
    script = subprocess.run(
        cli_command("store", "init-sql", *NAMES), capture_output=True, text=True, check=True
    ).stdout
    subprocess.run(
        [
            _bin("psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(postgres.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "owner_password=Owner-Pa55",
            "-v",
            "reader_password=Reader-Pa55",
        ],
        input=script,
        capture_output=True,
        text=True,
        check=True,
    )


async def test_init_sql_gives_the_store_and_grafana_what_they_need(postgres: Postgres) -> None:
    apply_init_sql(postgres)
    apply_init_sql(postgres)  # idempotent: a second run changes nothing and fails nothing
    base = f"host=127.0.0.1 port={postgres.port} dbname=padtec_init"
    with psycopg.connect(postgres.dsn) as conn:
        roles = conn.execute(
            "SELECT rolname, rolpassword IS NOT NULL, rolsuper FROM pg_authid "
            "WHERE rolname IN ('padtec_init', 'padtec_reader') ORDER BY 1"
        ).fetchall()
    assert roles == [("padtec_init", True, False), ("padtec_reader", True, False)]
    async with running_receiver(f"{base} user=padtec_init", StoreConfig()) as receiver:
        async with httpx2.AsyncClient() as http:
            reply = await http.post(f"{receiver.url}/api/v1/write", content=payload())
        assert reply.status_code == 204, reply.text
    with psycopg.connect(f"{base} user=padtec_reader") as reader:
        tables = [
            t
            for (t,) in reader.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        assert {"measurements", "series", "alarms"} <= set(tables)
        for table in tables:
            reader.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        assert reader.execute("SELECT count(*) FROM measurements").fetchone() != (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            reader.execute("DELETE FROM series")
