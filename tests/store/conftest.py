from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from padtec_exporter.store import StoreConfig, StoreService
from padtec_exporter.web import serve_app
from tests.support.postgres import Postgres, running_postgres
from tests.support.processes import ManagedProcess, cli_command, free_port

_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def dsn(postgres: Postgres) -> str:
    return postgres.create_database(f"store_{next(_numbers)}")


def sql(dsn: str, query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return list(conn.execute(query, params).fetchall())


@dataclass
class Receiver:
    url: str
    service: StoreService


@contextlib.asynccontextmanager
async def running_receiver(dsn: str, config: StoreConfig) -> AsyncIterator[Receiver]:
    """The receiver in the test's process (its jobs are run by the tests, not on a timer)."""
    service = StoreService(config, dsn)
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(service.app(), listen)
    await service.setup_schema()
    try:
        yield Receiver(url=f"http://{listen}", service=service)
    finally:
        await runner.cleanup()
        await service.close()


@pytest.fixture
async def receiver(dsn: str) -> AsyncIterator[Receiver]:
    async with running_receiver(dsn, StoreConfig()) as running:
        yield running


def start_receiver_process(
    workdir: Path, dsn: str, port: int, name: str = "store", config: Path | None = None
) -> ManagedProcess:
    dsn_file = workdir / "dsn"
    dsn_file.write_text(dsn)
    extra = ["--config", str(config)] if config else []
    proc = ManagedProcess(
        name,
        cli_command("store", "--listen", f"127.0.0.1:{port}", "--dsn-file", str(dsn_file), *extra),
        workdir,
    )
    proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=30)
    return proc
