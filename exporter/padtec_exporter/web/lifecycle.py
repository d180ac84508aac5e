"""Serve until SIGTERM or SIGINT, the one way every command of the project runs a server."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def serve_until_signalled(
    start: Callable[[], Awaitable[object]],
    close: Callable[[], Awaitable[object]],
    *,
    reload: Callable[[], Awaitable[object]] | None = None,
    shutdown_timeout: float = 5.0,
) -> None:
    """Run ``start``, then wait for SIGTERM/SIGINT and run ``close`` (given at most
    ``shutdown_timeout`` seconds). SIGHUP runs ``reload`` when given.

    A signal during a long ``start`` (a store waiting for its database) stops it; an error
    in ``start`` is raised after ``close`` ran, so ``close`` must accept a partial start.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads: set[asyncio.Task[object]] = set()

    def hup() -> None:
        assert reload is not None
        task: asyncio.Task[object] = loop.create_task(_awaited(reload))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if reload is not None:
        loop.add_signal_handler(signal.SIGHUP, hup)
    starting = asyncio.ensure_future(start())
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()  # raises what went wrong while starting
            await stopping
        log.info("shutting down")
    finally:
        for task in (starting, stopping):
            task.cancel()
        await asyncio.gather(starting, stopping, return_exceptions=True)
        try:
            await asyncio.wait_for(close(), shutdown_timeout)
        except TimeoutError:
            log.warning("shutdown took longer than %.0fs; exiting anyway", shutdown_timeout)


async def _awaited(call: Callable[[], Awaitable[object]]) -> object:
    return await call()
