"""A small pool of PostgreSQL connections that survives the database going away and back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

T = TypeVar("T")


class DatabaseUnavailable(Exception):
    """The database cannot take the write now: the client should retry (HTTP 503)."""


class StaleConnection(DatabaseUnavailable):
    """A pooled connection turned out dead (the server restarted while it sat idle)."""


class DatabaseRefused(Exception):
    """The server answered and refused the DSN's credentials, role or database before the
    store ever connected: a configuration mistake that retrying will not fix."""


# libpq's words for "the server is there and says no" (SQLSTATE classes 28 and 3D).
_REFUSALS = (
    "password authentication failed",
    "no password supplied",
    'role "',
    "no pg_hba.conf entry",
    'database "',
)

# SQLSTATE classes of a permanent refusal of *this data*: 22 data exception (bad bytes, value
# out of range), 23 integrity constraint violation, 54 program limit exceeded (e.g. "index row
# size 3024 exceeds btree version 4 maximum 2704"). Retrying the same data fails the same way.
DATA_ERROR_CLASSES = ("22", "23", "54")


class DataRefused(Exception):
    """The database refused this data for good: drop it (and say so), never ask for a retry."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(f"{sqlstate}: {message}")
        self.sqlstate = sqlstate


def is_data_error(exc: psycopg.Error) -> bool:
    return bool(exc.sqlstate) and str(exc.sqlstate)[:2] in DATA_ERROR_CLASSES


def _first_line(exc: Exception, limit: int = 200) -> str:
    # The first line names the problem; DETAIL lines may quote the value, which stays out.
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:limit]


class Database:
    def __init__(
        self, dsn: str, size: int = 4, connect_timeout: float = 5.0, statement_timeout: float = 20.0
    ) -> None:
        self._dsn = dsn
        self._connected_once = False
        self._timeout = connect_timeout
        # A slow database must turn a write into a 503 (Prometheus retries) before Prometheus
        # itself gives up; long jobs lift it with `SET LOCAL statement_timeout = 0`.
        # UTC: hour and day buckets are UTC whatever the server's time zone.
        self._options = f"-c statement_timeout={int(statement_timeout * 1000)} -c timezone=UTC"
        self._idle: asyncio.Queue[psycopg.AsyncConnection | None] = asyncio.Queue()
        for _ in range(size):
            self._idle.put_nowait(None)  # connected on first use

    async def run(self, work: Callable[[psycopg.AsyncConnection], Awaitable[T]]) -> T:
        """``work`` on a pooled connection; once more on a fresh one if the pooled one was dead.
        ``work`` must be safe to repeat (whole transactions of idempotent writes)."""
        try:
            async with self.connection() as conn:
                return await work(conn)
        except StaleConnection:
            # The others that sat idle as long are likely dead too: take a new one.
            async with self.connection(fresh=True) as conn:
                return await work(conn)

    @contextlib.asynccontextmanager
    async def connection(self, fresh: bool = False) -> AsyncIterator[psycopg.AsyncConnection]:
        conn = await self._idle.get()
        if fresh and conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()
        reused = conn is not None and not conn.closed
        try:
            if conn is None or conn.closed:
                conn = await self._connect()
            yield conn
        except psycopg.Error as exc:
            if is_data_error(exc):  # the connection is fine; the data is not
                raise DataRefused(str(exc.sqlstate), _first_line(exc)) from None
            if not isinstance(exc, psycopg.OperationalError):
                raise
            # Connection lost, server gone or statement timeout: drop this connection and let
            # the caller answer 503.
            broken = conn is not None and (conn.broken or conn.closed)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            conn = None
            reason = _first_line(exc)
            if reused and broken:
                raise StaleConnection(reason) from None
            raise DatabaseUnavailable(reason) from None
        finally:
            self._idle.put_nowait(conn)

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            # autocommit: `conn.transaction()` is then a real BEGIN/COMMIT. Without it, one
            # stray statement leaves the connection inside an implicit transaction and every
            # later "transaction" is a savepoint in it that is never committed.
            conn = await psycopg.AsyncConnection.connect(
                self._dsn,
                connect_timeout=int(self._timeout),
                autocommit=True,
                options=self._options,
            )
        except psycopg.OperationalError as exc:
            # libpq names host, port and user; the password is cut out should it ever appear.
            reason = self._redacted(exc)
            # Refused at the very first connection: the DSN is wrong, say so and stop. Later
            # (a password rotated under a running store) it is answered 503 like an outage.
            if not self._connected_once and any(r in reason for r in _REFUSALS):
                raise DatabaseRefused(reason) from None
            raise DatabaseUnavailable(f"cannot connect: {reason}") from None
        self._connected_once = True
        return conn

    def _redacted(self, exc: Exception) -> str:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        message = "; ".join(lines[:2]) or type(exc).__name__
        try:
            password = conninfo_to_dict(self._dsn).get("password")
        except psycopg.ProgrammingError:
            password = None
        return message.replace(str(password), "***") if password else message

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close()
