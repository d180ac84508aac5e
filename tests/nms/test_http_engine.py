"""The HTTP engine (aiohttp) against real loopback servers: body caps while streaming,
compression, redirects, connections the server closed, and the rebuild after a stall."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import (
    MalformedReply,
    NmsClient,
    NmsMetrics,
    RequestFailed,
    ResponseTooLarge,
)
from padtec_exporter.nms.errors import TransportFailure
from tests.nms.helpers import Sleeps, rows_page

COUNT = "/nms-api/v1/measures/count"
STATE = "/nms-api/v1/measures/state"
LIMIT = 30.0  # generous: each of these takes milliseconds unless the client hangs

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def serve(routes: dict[str, Handler], **runner: Any) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_get(path, handler)
    server = web.AppRunner(app, shutdown_timeout=0.1, **runner)
    await server.setup()
    await web.TCPSite(server, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{server.addresses[0][1]}/nms-api"
    finally:
        await server.cleanup()


def client(base_url: str, **nms: Any) -> tuple[NmsClient, CollectorRegistry]:
    settings = {"name": "t", "base_url": base_url, "auth": {"token": "t"}, **nms}
    config = config_from_data({"nms": [settings]}).nms[0]
    registry = CollectorRegistry()
    return NmsClient(config, NmsMetrics(registry), sleep=Sleeps()), registry


def failures(registry: CollectorRegistry, reason: str, endpoint: str = "measures/count") -> float:
    labels = {"nms": "t", "endpoint": endpoint, "reason": reason}
    return registry.get_sample_value("padtec_nms_request_failures_total", labels) or 0.0


async def test_a_chunked_body_is_cut_at_the_cap_while_streaming() -> None:
    closed = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            await response.write(b"[")
            while True:  # never ends: only a reader that stops at the cap survives this
                await response.write(b"1," * 100)
        except (ConnectionError, RuntimeError):
            closed.set()  # the client hung up
            raise

    async with serve({STATE: endless}) as url:
        api, registry = client(url, max_response_bytes=10_000, read_timeout_seconds=LIMIT)
        async with api, asyncio.timeout(LIMIT):
            with pytest.raises(ResponseTooLarge):
                await api.fetch_all("measures/state", {}, rows_page)
            await closed.wait()  # the connection was dropped, not left streaming
    assert failures(registry, "too_large", "measures/state") == 1.0


async def test_a_declared_length_over_the_cap_is_refused_before_any_body_byte() -> None:
    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": str(10**9)})
        await response.prepare(request)
        await asyncio.sleep(3600)  # no body byte ever: waiting for one would hang
        return response

    async with serve({COUNT: huge}) as url:
        api, registry = client(url, max_response_bytes=1000, read_timeout_seconds=LIMIT)
        async with api, asyncio.timeout(LIMIT):
            with pytest.raises(ResponseTooLarge):
                await api.get_json("measures/count")
    assert failures(registry, "too_large") == 1.0


async def gzipped(body: bytes) -> web.Response:
    return web.Response(
        body=gzip.compress(body),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )


async def test_a_gzipped_body_is_inflated_and_capped_by_its_inflated_size() -> None:
    rows = b"[" + b",".join(b"%d" % n for n in range(3000)) + b"]"  # ~14 KB, gzip ~6 KB

    async def state(_request: web.Request) -> web.Response:
        return await gzipped(rows)

    async with serve({STATE: state}) as url:
        page = {"page": "0", "size": "5000"}
        api, _ = client(url, max_response_bytes=len(rows))
        async with api:
            assert await api.get_json("measures/state", page) == list(range(3000))
        api, registry = client(url, max_response_bytes=len(rows) - 1)
        async with api:
            with pytest.raises(ResponseTooLarge):
                await api.get_json("measures/state", page)
    assert failures(registry, "too_large", "measures/state") == 1.0


async def test_a_broken_gzip_body_is_malformed() -> None:
    async def broken(_request: web.Request) -> web.Response:
        return web.Response(
            body=b"\x1f\x8b\x08\x00not gzip at all",
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        )

    async with serve({COUNT: broken}) as url:
        api, registry = client(url, retry={"attempts": 2})
        async with api:
            with pytest.raises(MalformedReply, match="encoding is broken"):
                await api.get_json("measures/count")
    assert failures(registry, "malformed") == 2.0  # retried, as any malformed reply


async def test_redirects_are_not_followed_and_the_line_names_the_target() -> None:
    followed = asyncio.Event()

    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/elsewhere/measures/count")

    async def elsewhere(_request: web.Request) -> web.Response:
        followed.set()
        return web.json_response(42)

    async with serve({COUNT: moved, "/elsewhere/measures/count": elsewhere}) as url:
        api, registry = client(url)
        async with api:
            with pytest.raises(RequestFailed) as caught:
                await api.get_json("measures/count")
    line = str(caught.value)
    assert "HTTP 302 Found, redirected to /elsewhere/measures/count" in line
    assert "redirects are not followed" in line
    assert not followed.is_set()
    assert failures(registry, "http_4xx") == 1.0


async def test_a_kept_alive_connection_the_nms_closed_is_no_outage(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server closes each connection when the next request arrives on it (the race of
    an idle connection it closed just as the client reused it): aiohttp sends the request
    again on a new connection, so the NMS never looks unreachable. With httpx every sweep
    logged 'nms unreachable; retrying' and set padtec_nms_up 0 for an instant."""
    connections = requests = 0

    async def one_request_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        nonlocal connections, requests
        connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            requests += 1
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\n42"
            )
            await writer.drain()
            await reader.readuntil(b"\r\n\r\n")  # the reuse: dropped without an answer
        writer.transport.abort()

    server = await asyncio.start_server(one_request_per_connection, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    caplog.set_level(logging.INFO, logger="padtec_exporter.nms")
    api, registry = client(f"http://127.0.0.1:{port}/nms-api", max_concurrency=1)
    try:
        async with api, asyncio.timeout(LIMIT):
            for _ in range(5):
                assert await api.get_json("measures/count") == 42
    finally:
        server.close()
        await server.wait_closed()
    assert requests == 5 and connections >= 5  # each reuse was refused and sent again
    assert registry.get_sample_value("padtec_nms_up", {"nms": "t"}) == 1.0
    assert failures(registry, "connect") == 0.0
    assert "nms unreachable; retrying" not in [r.getMessage() for r in caplog.records]


async def test_a_reset_fails_a_body_read_in_flight_and_the_retry_succeeds() -> None:
    """aiohttp leaves a body read waiting forever (its read timeout dropped) when the session
    closes under it: the rebuild fails such reads itself, and the retry runs on the new one."""
    stalled = asyncio.Event()
    calls = 0

    async def first_stalls(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        if calls > 1:
            return web.json_response(42)
        response = web.StreamResponse(headers={"Content-Length": "2"})
        await response.prepare(request)
        await response.write(b"4")
        stalled.set()
        await asyncio.sleep(3600)
        return response

    async with serve({COUNT: first_stalls}) as url:
        api, registry = client(url, read_timeout_seconds=LIMIT * 10)
        async with api, asyncio.timeout(LIMIT):
            request = asyncio.ensure_future(api.get_json("measures/count"))
            await stalled.wait()
            await api.reset()
            assert await request == 42
    assert calls == 2
    assert failures(registry, "connect") == 1.0


async def test_the_proxy_of_the_environment_is_used_unless_no_proxy_names_the_nms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As with httpx: HTTP_PROXY is honoured (looked up once per session, not per request)."""
    seen: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        seen.append(f"{request.headers['Host']} {request.path}")
        return web.json_response(42)

    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    async with serve({COUNT: proxy}) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/nms-api"))
        # .invalid never resolves (RFC 6761): only the proxy can answer for it.
        api, _ = client("http://nms.invalid:8181/nms-api", retry={"attempts": 1})
        async with api:
            assert await api.get_json("measures/count") == 42
        monkeypatch.setenv("NO_PROXY", "nms.invalid")
        api, _ = client("http://nms.invalid:8181/nms-api", retry={"attempts": 1})
        async with api:
            with pytest.raises(TransportFailure, match=r"DNS: cannot resolve host 'nms\.invalid'"):
                await api.get_json("measures/count")
    assert seen == ["nms.invalid:8181 /nms-api/v1/measures/count"]
