"""A real PostgreSQL cluster (Debian's packages) in a temp dir, run as the postgres user.

PostgreSQL refuses to run as root, so initdb and the server run as `postgres`; the socket and
data live in a directory that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"PostgreSQL's {name} is not installed; scripts/test installs postgresql")
    return path


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class Postgres:
    port: int
    datadir: Path
    logfile: Path

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def dsn_for(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} dbname={dbname} user=postgres"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(
                [
                    _bin("pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-l",
                    str(self.logfile),
                    "-w",
                    "-t",
                    "30",
                    *args,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        self.ctl("stop", "-m", "fast")

    def start(self) -> None:
        self.ctl("start", "-o", f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1")

    def create_database(self, name: str) -> str:
        subprocess.run(
            _as_postgres(
                [
                    _bin("psql"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-c",
                    f'CREATE DATABASE "{name}"',
                ]
            ),
            check=True,
            capture_output=True,
        )
        return self.dsn_for(name)


@contextlib.contextmanager
def running_postgres(durable: bool = False) -> Iterator[Postgres]:
    """``durable``: keep PostgreSQL's default fsync and commit settings (benchmarks); tests
    turn them off for speed."""
    root = Path(tempfile.mkdtemp(prefix="padtec-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    datadir = root / "data"
    subprocess.run(
        _as_postgres(
            [
                _bin("initdb"),
                "-D",
                str(datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = Postgres(port=free_port(), datadir=datadir, logfile=root / "postgres.log")
    if not durable:
        with (datadir / "postgresql.conf").open("a") as conf:
            # Test cluster: speed over durability (the machine is shared and small).
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    server.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(server.port)], capture_output=True
            )
            if ready.returncode == 0:
                break
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.ctl("stop", "-m", "immediate")
        shutil.rmtree(root, ignore_errors=True)
