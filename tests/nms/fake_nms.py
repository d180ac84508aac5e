"""A faked NMS for the client's unit tests: routes answered in the HTTP client itself.

aioresponses replaces ``aiohttp.ClientSession._request``; this router sits behind it with the
shape of the respx routers the tests were first written with: routes by method and URL (any
query, or ``params`` it must contain), a fixed answer (``respond``) or a side effect (an answer,
an exception raised as aiohttp would, a callable, or a list used one item per request), and
every call recorded. An unmatched request fails the test. Real sockets (timeouts, resets, TLS,
streaming bodies) are tested against loopback servers instead (test_transport.py and others).
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import CallbackResult, aioresponses
from multidict import CIMultiDict
from yarl import URL

_NO_JSON = object()


@dataclass(frozen=True)
class Request:
    """A request as the client sent it."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    content: bytes


class Response:
    """An answer of the fake NMS (``json``, ``text`` or raw ``content``)."""

    def __init__(
        self,
        status: int = 200,
        *,
        json: Any = _NO_JSON,
        text: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.headers = dict(headers or {})
        self.content_type = "application/json"
        if json is not _NO_JSON:
            self.body = jsonlib.dumps(json).encode()
        elif text is not None:
            self.body, self.content_type = text.encode(), "text/html"
        else:
            self.body = content or b""


Answer = Response | BaseException
Responder = Callable[[Request], Response | Awaitable[Response]]
SideEffect = Answer | Responder | list[Answer]


@dataclass(frozen=True)
class Call:
    request: Request


class Route:
    def __init__(self, method: str, url: str, params: Mapping[str, str] | None) -> None:
        self.method = method
        self.url = URL(url)
        self.params = dict(params or {})
        self.calls: list[Call] = []
        self._answer: Response = Response(200)
        self._side_effect: Responder | Iterator[Answer] | Answer | None = None

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    def respond(self, status: int = 200, **answer: Any) -> Route:
        """The answer when no side effect is set."""
        self._answer = Response(status, **answer)
        return self

    def mock(self, side_effect: SideEffect | None = None) -> Route:
        """A side effect wins over ``respond``; ``None`` removes it."""
        self._side_effect = iter(side_effect) if isinstance(side_effect, list) else side_effect
        return self

    def matches(self, method: str, url: URL) -> bool:
        if method != self.method or url.with_query(None) != self.url.with_query(None):
            return False
        return all(url.query.get(key) == value for key, value in self.params.items())

    async def answer(self, request: Request) -> Response:
        self.calls.append(Call(request))
        effect = self._side_effect
        if isinstance(effect, Iterator):
            effect = next(effect, None)
            if effect is None:
                raise AssertionError(f"{request.method} {request.url}: no answer left")
        if effect is None:
            return self._answer
        if isinstance(effect, BaseException):
            raise effect
        if isinstance(effect, Response):
            return effect
        result = effect(request)
        return result if isinstance(result, Response) else await result


class FakeNms:
    """The router: ``get``/``post`` add routes (the first matching one answers)."""

    def __init__(self, mocked: aioresponses) -> None:
        self._routes: list[Route] = []
        self._named: dict[str, Route] = {}
        # aioresponses tells a callback the URL and arguments, not the method: one per method.
        mocked.add(re.compile(".*"), method="GET", callback=self._on_get, repeat=True)
        mocked.add(re.compile(".*"), method="POST", callback=self._on_post, repeat=True)

    def __getitem__(self, name: str) -> Route:
        return self._named[name]

    def get(self, url: str, *, params: Mapping[str, str] | None = None) -> Route:
        return self._add("GET", url, params, None)

    def post(self, url: str, *, name: str | None = None) -> Route:
        return self._add("POST", url, None, name)

    def _add(
        self, method: str, url: str, params: Mapping[str, str] | None, name: str | None
    ) -> Route:
        route = Route(method, url, params)
        self._routes.append(route)
        if name is not None:
            self._named[name] = route
        return route

    async def _on_get(self, url: URL, **kwargs: Any) -> CallbackResult:
        return await self._dispatch("GET", url, kwargs)

    async def _on_post(self, url: URL, **kwargs: Any) -> CallbackResult:
        return await self._dispatch("POST", url, kwargs)

    async def _dispatch(self, method: str, url: URL, kwargs: Mapping[str, Any]) -> CallbackResult:
        data = kwargs.get("data")
        request = Request(
            method,
            url,
            CIMultiDict(kwargs.get("headers") or {}),
            data if isinstance(data, bytes) else b"",
        )
        for route in self._routes:
            if route.matches(method, url):
                answer = await route.answer(request)
                return CallbackResult(
                    status=answer.status,
                    body=answer.body,
                    headers=answer.headers,
                    content_type=answer.content_type,
                )
        raise AssertionError(f"no route for {method} {url}")


def read_timeout() -> aiohttp.SocketTimeoutError:
    """What aiohttp raises when no byte came for ``read_timeout_seconds``."""
    return aiohttp.SocketTimeoutError("Timeout on reading data from socket")


def refused(host: str = "nms.test", port: int = 8181) -> aiohttp.ClientConnectorError:
    """What aiohttp raises when nothing listens at host:port."""
    key = ConnectionKey(host, port, False, True, None, None, None)
    return aiohttp.ClientConnectorError(
        key, ConnectionRefusedError(111, f"Connect call failed ('{host}', {port})")
    )
