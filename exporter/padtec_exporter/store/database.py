"""A small pool of PostgreSQL connections that survives the database going away and back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import psycopg


class DatabaseUnavailable(Exception):
    """The database cannot take the write now: the client should retry (HTTP 503)."""


class Database:
    def __init__(self, dsn: str, size: int = 4, connect_timeout: float = 5.0) -> None:
        self._dsn = dsn
        self._timeout = connect_timeout
        self._idle: asyncio.Queue[psycopg.AsyncConnection | None] = asyncio.Queue()
        for _ in range(size):
            self._idle.put_nowait(None)  # connected on first use

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        conn = await self._idle.get()
        try:
            if conn is None or conn.closed:
                conn = await self._connect()
            yield conn
        except psycopg.OperationalError as exc:
            # Connection lost or server gone: drop this connection, let the caller answer 503.
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            conn = None
            raise DatabaseUnavailable(
                str(exc).splitlines()[0] if str(exc) else "unavailable"
            ) from None
        finally:
            self._idle.put_nowait(conn)

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            # autocommit: `conn.transaction()` is then a real BEGIN/COMMIT. Without it, one
            # stray statement leaves the connection inside an implicit transaction and every
            # later "transaction" is a savepoint in it that is never committed.
            return await psycopg.AsyncConnection.connect(
                self._dsn, connect_timeout=int(self._timeout), autocommit=True
            )
        except psycopg.OperationalError as exc:
            # The message names host and port, never the password.
            raise DatabaseUnavailable(f"cannot connect: {type(exc).__name__}") from None

    async def close(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close()
