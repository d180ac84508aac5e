"""serve_until_signalled, the one way every command runs its server: started, stopped by
SIGTERM, reloaded by SIGHUP, closed even when starting fails."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from padtec_exporter.web import serve_until_signalled


async def test_sighup_reloads_and_sigterm_closes() -> None:
    events: list[str] = []

    async def start() -> None:
        events.append("start")
        loop = asyncio.get_running_loop()
        loop.call_later(0.1, os.kill, os.getpid(), signal.SIGHUP)
        loop.call_later(0.5, os.kill, os.getpid(), signal.SIGTERM)

    async def reload() -> None:
        events.append("reload")

    async def close() -> None:
        events.append("close")

    await asyncio.wait_for(serve_until_signalled(start, close, reload=reload), 30)
    assert events == ["start", "reload", "close"]


async def test_a_failed_start_is_raised_after_close() -> None:
    events: list[str] = []

    async def start() -> None:
        raise OSError("address in use")

    async def close() -> None:
        events.append("close")

    with pytest.raises(OSError, match="address in use"):
        await asyncio.wait_for(serve_until_signalled(start, close), 30)
    assert events == ["close"]


async def test_sigterm_during_a_long_start_stops_it() -> None:
    events: list[str] = []

    async def start() -> None:
        asyncio.get_running_loop().call_later(0.2, os.kill, os.getpid(), signal.SIGTERM)
        await asyncio.sleep(3600)  # e.g. a store waiting for its database

    async def close() -> None:
        events.append("close")

    await asyncio.wait_for(serve_until_signalled(start, close), 30)
    assert events == ["close"]
