"""HTTP client of the NMS Smart API: auth, retries, breaker, bounded concurrency, paging.

It knows HTTP and paging, nothing of what rows mean: callers pass a decoder per page.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import msgspec
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from padtec_exporter.config import NmsConfig
from padtec_exporter.nms.auth import TokenSource
from padtec_exporter.nms.breaker import CircuitBreaker
from padtec_exporter.nms.errors import (
    AuthError,
    MalformedReply,
    NmsError,
    PagingError,
    RateLimited,
    RequestFailed,
    ResponseTooLarge,
    ServerError,
    TransientError,
    TransportFailure,
)
from padtec_exporter.nms.metrics import NmsMetrics

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
RATE_LIMIT_BUDGET = 4


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    raw_count: int  # elements in the page's array, kept or dropped: decides the last page


Decoder = Callable[[bytes], Page[T]]


class NmsClient:
    def __init__(
        self,
        config: NmsConfig,
        metrics: NmsMetrics,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._metrics = metrics
        self._name = config.name
        self._sleep = sleep
        self._base = f"{config.base_url.rstrip('/')}/{config.api_prefix.strip('/')}"
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(
                config.read_timeout_seconds, connect=config.connect_timeout_seconds
            ),
            verify=_verify(config),
            transport=transport,
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=config.max_concurrency,
                max_keepalive_connections=config.max_concurrency,
            ),
        )
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._tokens = TokenSource(config.auth, self._login)
        self._breaker = CircuitBreaker(
            config.breaker.failure_threshold,
            config.breaker.reset_timeout_seconds,
            clock,
            lambda is_open: metrics.breaker_open.labels(self._name).set(int(is_open)),
        )
        metrics.prepare(self._name)

    async def __aenter__(self) -> NmsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    # -- public API ------------------------------------------------------------------------
    async def fetch_all(
        self, endpoint: str, params: Mapping[str, str], decode: Decoder[T]
    ) -> list[T]:
        """Every page of a state view, rows in page order.

        There is no total, so after the first page the client asks for ``max_concurrency``
        pages at once and stops at the first short one (at most that many - 1 wasted).
        """
        size = self._config.page_size
        rows: list[T] = []
        previous: bytes | None = None
        page, window = 0, 1
        while True:
            if page + window > self._config.max_pages:
                raise PagingError(f"{endpoint}: more than {self._config.max_pages} pages")
            try:
                async with asyncio.TaskGroup() as group:
                    tasks = [
                        group.create_task(self._page(endpoint, params, number, size, decode))
                        for number in range(page, page + window)
                    ]
            except BaseExceptionGroup as group_error:
                # The first page that failed speaks for the window (the others were cancelled).
                raise _first_nms_error(group_error) from None
            for task in tasks:
                result, digest = task.result()
                if result.raw_count >= size and digest == previous:
                    raise PagingError(
                        f"{endpoint}: page {page} repeats the previous page; "
                        "the NMS seems to ignore 'page'"
                    )
                previous = digest
                rows.extend(result.rows)
                if result.raw_count < size:
                    return rows
                page += 1
            window = self._config.max_concurrency

    async def get_json(self, endpoint: str, params: Mapping[str, str] | None = None) -> Any:
        return await self._request(endpoint, dict(params or {}), _json)

    # -- one page, one request -------------------------------------------------------------
    async def _page(
        self, endpoint: str, params: Mapping[str, str], number: int, size: int, decode: Decoder[T]
    ) -> tuple[Page[T], bytes]:
        def parse(body: bytes) -> tuple[Page[T], bytes]:
            return decode(body), hashlib.blake2b(body, digest_size=16).digest()

        query = {**params, "page": str(number), "size": str(size)}
        return await self._request(endpoint, query, parse)

    async def _request(
        self, endpoint: str, params: dict[str, str], parse: Callable[[bytes], R]
    ) -> R:
        """One logical request: breaker, then attempts with retries; counts the outcome."""
        try:
            self._breaker.before_request()
        except NmsError as exc:
            self._metrics.failures.labels(self._name, endpoint, exc.reason).inc()
            raise
        retrying = AsyncRetrying(
            stop=self._should_stop,
            wait=self._backoff,
            retry=retry_if_exception_type(TransientError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    result = await self._attempt(endpoint, params, parse)
        except NmsError as exc:
            if isinstance(exc, TransientError):
                self._breaker.failure()
            else:  # the NMS answered (auth, 4xx, too large): reachable, so no breaker trip
                self._breaker.success()
            self._metrics.up.labels(self._name).set(0)
            log.warning(
                "nms request failed",
                extra={
                    "fields": {
                        "nms": self._name,
                        "endpoint": endpoint,
                        "reason": exc.reason,
                        "attempts": retrying.statistics.get("attempt_number", 1),
                        "error": str(exc),
                    }
                },
            )
            raise
        self._breaker.success()
        self._metrics.up.labels(self._name).set(1)
        return result

    def _should_stop(self, state: RetryCallState) -> bool:
        """``retry.attempts`` tries; a 429 asks to slow down, not to give up, so rate-limited
        tries get a budget of RATE_LIMIT_BUDGET times as many (each waits its Retry-After)."""
        attempts = self._config.retry.attempts
        outcome = state.outcome
        limited = outcome is not None and isinstance(outcome.exception(), RateLimited)
        if limited:
            return state.attempt_number >= attempts * RATE_LIMIT_BUDGET
        return state.attempt_number >= attempts

    def _backoff(self, state: RetryCallState) -> float:
        retry = self._config.retry
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return float(min(error.retry_after, retry.max_retry_after_seconds))
        exponential = retry.initial_backoff_seconds * 2.0 ** (state.attempt_number - 1)
        return float(
            min(retry.max_backoff_seconds, exponential) + random.uniform(0, retry.jitter_seconds)
        )

    async def _attempt(
        self, endpoint: str, params: dict[str, str], parse: Callable[[bytes], R]
    ) -> R:
        token = await self._tokens.get()
        status, headers, body = await self._send(endpoint, params, token)
        if status in (401, 403):
            if not await self._tokens.renew(token):
                self._fail(endpoint, "auth")
                raise AuthError(f"{endpoint}: the NMS refused the token (HTTP {status})")
            self._metrics.auth_renewals.labels(self._name).inc()
            status, headers, body = await self._send(endpoint, params, await self._tokens.get())
            if status in (401, 403):
                self._fail(endpoint, "auth")
                raise AuthError(f"{endpoint}: the NMS refused a renewed token (HTTP {status})")
        if status == 429:
            self._fail(endpoint, "http_429")
            raise RateLimited(f"{endpoint}: HTTP 429", _retry_after(headers.get("retry-after")))
        if status >= 500:
            self._fail(endpoint, "http_5xx")
            raise ServerError(f"{endpoint}: HTTP {status}")
        if status >= 400 or status < 200:
            self._fail(endpoint, "http_4xx")
            raise RequestFailed(f"{endpoint}: HTTP {status}")
        try:
            return parse(body)
        except MalformedReply:
            self._fail(endpoint, "malformed")
            raise

    async def _send(
        self, endpoint: str, params: dict[str, str], token: str
    ) -> tuple[int, httpx.Headers, bytes]:
        url = f"{self._base}/{endpoint}"
        async with self._slots:
            started = time.perf_counter()
            code = "error"
            try:
                request = self._http.build_request(
                    "GET", url, params=params, headers={"Authorization": token}
                )
                response = await self._http.send(request, stream=True)
                code = str(response.status_code)
                try:
                    body = await self._read_capped(response, endpoint)
                finally:
                    await response.aclose()
                return response.status_code, response.headers, body
            except httpx.TimeoutException as exc:
                self._fail(endpoint, "timeout")
                raise TransportFailure(
                    f"{endpoint}: timed out ({type(exc).__name__})", "timeout"
                ) from None
            except httpx.TransportError as exc:
                self._fail(endpoint, "connect")
                raise TransportFailure(
                    f"{endpoint}: {type(exc).__name__}: {exc}", "connect"
                ) from None
            finally:
                self._metrics.requests.labels(self._name, endpoint, code).inc()
                self._metrics.duration.labels(self._name, endpoint).observe(
                    time.perf_counter() - started
                )

    async def _read_capped(self, response: httpx.Response, endpoint: str) -> bytes:
        limit = self._config.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                self._fail(endpoint, "too_large")
                raise ResponseTooLarge(f"{endpoint}: reply larger than {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _login(self, username: str, password: str, client_id: str) -> str:
        endpoint = "admin/login"
        url = f"{self._base}/{endpoint}"
        started = time.perf_counter()
        code = "error"
        try:
            response = await self._http.post(
                url, json={"username": username, "password": password, "clientId": client_id}
            )
            code = str(response.status_code)
        except httpx.TimeoutException:
            self._fail(endpoint, "timeout")
            raise TransportFailure("login timed out", "timeout") from None
        except httpx.TransportError as exc:
            self._fail(endpoint, "connect")
            raise TransportFailure(f"login: {type(exc).__name__}", "connect") from None
        finally:
            self._metrics.requests.labels(self._name, endpoint, code).inc()
            self._metrics.duration.labels(self._name, endpoint).observe(
                time.perf_counter() - started
            )
        if response.status_code == 429:
            self._fail(endpoint, "http_429")
            raise RateLimited("login: HTTP 429", _retry_after(response.headers.get("retry-after")))
        if response.status_code >= 500:
            self._fail(endpoint, "http_5xx")
            raise ServerError(f"login: HTTP {response.status_code}")
        if response.status_code != 200:
            self._fail(endpoint, "auth")
            raise AuthError(f"login refused (HTTP {response.status_code})")
        try:
            token = msgspec.json.decode(response.content)["token"]
        except (msgspec.DecodeError, KeyError, TypeError):
            self._fail(endpoint, "malformed")
            raise MalformedReply("login: the reply carries no token") from None
        if not isinstance(token, str) or not token.strip():
            raise AuthError("login: the reply carries an empty token")
        return token

    def _fail(self, endpoint: str, reason: str) -> None:
        self._metrics.failures.labels(self._name, endpoint, reason).inc()


def _first_nms_error(group: BaseExceptionGroup[BaseException]) -> BaseException:
    for error in group.exceptions:
        if isinstance(error, BaseExceptionGroup):
            return _first_nms_error(error)
        if isinstance(error, NmsError):
            return error
    return group.exceptions[0]


def _json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedReply(f"not valid JSON: {exc}") from exc


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _verify(config: NmsConfig) -> ssl.SSLContext | bool:
    if not config.tls.verify:
        return False
    if config.tls.ca_file:
        return ssl.create_default_context(cafile=config.tls.ca_file)
    return True
