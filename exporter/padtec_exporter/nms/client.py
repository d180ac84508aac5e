"""HTTP client of the NMS Smart API: auth, retries, breaker, bounded concurrency, paging.

It knows HTTP and paging, nothing of what rows mean: callers pass a decoder per page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn, TypeVar

import httpx2
import msgspec
from tenacity import RetryCallState

from padtec_exporter.config import NmsConfig
from padtec_exporter.configfile import ConfigError
from padtec_exporter.nms.auth import Token, TokenSource
from padtec_exporter.nms.breaker import CircuitBreaker
from padtec_exporter.nms.clock import parse_http_date
from padtec_exporter.nms.errors import (
    AuthError,
    BreakerOpenError,
    MalformedReply,
    NmsError,
    PagingError,
    ResponseTooLarge,
    TokenUnavailable,
    TransportFailure,
    login_failure,
    malformed_reply,
    status_failure,
    token_refused,
    transport_failure,
)
from padtec_exporter.nms.metrics import NmsMetrics
from padtec_exporter.nms.paging import Decoder, FetchedPage, Sweep, fetch_pages
from padtec_exporter.nms.retry import RetryPolicy, parse_retry_after

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
LOGIN_ENDPOINT = "admin/login"
REFUSED = (401, 403)  # a 403 was seen for CSRF: any 403 is treated as a refused token


@dataclass(frozen=True)
class Reply:
    status: int
    headers: httpx2.Headers
    body: bytes
    method: str = "GET"
    url: str = ""  # the URL tried, named by every error line (errors.py words them)


@dataclass
class _RequestState:
    """What one logical request (all its attempts) has used up so far."""

    attempts: int = 0
    renewed: bool = False  # the token is renewed at most once per request


class NmsClient:
    def __init__(
        self,
        config: NmsConfig,
        metrics: NmsMetrics,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._name = config.name
        self._record = metrics.recorder(config.name)
        self._sleep = sleep
        self._base = _api_base(config)
        self._transport = transport
        self._http = self._new_http()
        # The page size in use: the configured one until the NMS shows a smaller cap.
        self._page_size = config.page_size
        # The most rows the NMS served in one page: a short first page at or below it is the
        # end of its view, not a cap (no probe needed).
        self._served_up_to = 0
        # The Date header of the latest reply and when it came (monotonic): the NMS's clock.
        self._server_date: tuple[str, float] | None = None
        # When the NMS last answered anything (monotonic): the collectors' progress signal.
        self.last_response_at = time.monotonic()
        self._reachable = True  # the first failed attempt of an outage logs one line
        self._slots = asyncio.Semaphore(config.max_concurrency)
        self._tokens = TokenSource(config.auth, self._login, on_renewal=self._record.renewal)
        self._retry = RetryPolicy(config.retry)
        self._breaker = CircuitBreaker(
            config.breaker, clock=clock, on_change=self._record.breaker_open, name=config.name
        )

    async def __aenter__(self) -> NmsClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    def _new_http(self) -> httpx2.AsyncClient:
        config = self._config
        return httpx2.AsyncClient(
            timeout=httpx2.Timeout(
                config.read_timeout_seconds, connect=config.connect_timeout_seconds
            ),
            verify=_tls_verification(config),
            transport=self._transport,
            follow_redirects=False,
            limits=httpx2.Limits(
                max_connections=config.max_concurrency,
                max_keepalive_connections=config.max_concurrency,
            ),
        )

    async def reset(self) -> None:
        """A fresh HTTP client (new pool, new connections): the safety net after a stalled
        run. Requests still in flight on the old one fail and are retried on the new one."""
        old, self._http = self._http, self._new_http()
        with contextlib.suppress(Exception):  # a wedged pool must not wedge the reset too
            async with asyncio.timeout(5.0):
                await old.aclose()
        log.warning("nms http client rebuilt", extra={"fields": {"nms": self._name}})

    @property
    def page_size(self) -> int:
        """The page size in use (below the configured one once the NMS showed a cap)."""
        return self._page_size

    def server_time(self) -> datetime | None:
        """The NMS's clock now (UTC), from the Date header of its latest reply."""
        if self._server_date is None:
            return None
        raw, received = self._server_date
        at = parse_http_date(raw)
        if at is None:
            return None
        return at + timedelta(seconds=time.monotonic() - received)

    # -- public API ------------------------------------------------------------------------
    async def fetch_all(
        self, endpoint: str, params: Mapping[str, str], decode: Decoder[T]
    ) -> list[T]:
        """Every page of a state view, rows in page order (see ``paging``)."""
        return (await self.fetch_sweep(endpoint, params, decode)).rows

    async def fetch_sweep(
        self, endpoint: str, params: Mapping[str, str], decode: Decoder[T]
    ) -> Sweep[T]:
        """Every page of a state view, and how many rows the NMS served.

        An NMS may cut ``size`` to a smaller maximum silently: its first page is then short
        though more rows follow. A short first page larger than any page served so far is
        checked with one request for page 1; rows there mean a cap, which is remembered (and
        logged once) and the view is fetched again with the size the NMS serves.
        """
        size = self._page_size
        sweep = await self._sweep(endpoint, params, decode, size)
        if sweep.pages == 1 and self._served_up_to < sweep.raw_rows < size:
            beyond = await self._request(
                endpoint, {**params, "page": "1", "size": str(size)}, decode
            )
            if beyond.raw_count > 0 and sweep.raw_rows < self._page_size:
                # Views paged at once may all see the cap; the first to see it says so.
                self._page_size = sweep.raw_rows
                log.warning(
                    "nms serves fewer rows per page than asked; paging with its size",
                    extra={
                        "fields": {
                            "nms": self._name,
                            "endpoint": endpoint,
                            "asked": self._config.page_size,
                            "served": self._page_size,
                        }
                    },
                )
            if beyond.raw_count > 0:
                sweep = await self._sweep(endpoint, params, decode, self._page_size)
        self._served_up_to = max(self._served_up_to, sweep.largest_page)
        return sweep

    async def _sweep(
        self, endpoint: str, params: Mapping[str, str], decode: Decoder[T], size: int
    ) -> Sweep[T]:
        def parse(body: bytes) -> FetchedPage[T]:
            return FetchedPage(decode(body), body)

        async def fetch(number: int) -> FetchedPage[T]:
            query = {**params, "page": str(number), "size": str(size)}
            return await self._request(endpoint, query, parse)

        try:
            sweep = await fetch_pages(
                fetch,
                page_size=size,
                max_pages=self._config.max_pages,
                window=self._config.max_concurrency,
            )
        except PagingError as exc:
            self._record.failure(endpoint, exc.reason)
            self._failed(endpoint, exc, attempts=None)
            raise PagingError(f"{endpoint}: {exc}") from None
        except NmsError:
            # Logged by the page that failed; pages requested ahead may have succeeded after
            # it, but the view as a whole failed.
            self._record.up(False)
            raise
        self._record.up(True)  # whatever pages past the end did
        return sweep

    async def get_json(self, endpoint: str, params: Mapping[str, str] | None = None) -> Any:
        """One request, its body decoded as JSON (e.g. the bare integer of ``*/count``)."""
        return await self._request(endpoint, dict(params or {}), _decode_json)

    # -- one logical request: breaker, attempts, outcome -----------------------------------
    async def _request(
        self, endpoint: str, params: Mapping[str, str], parse: Callable[[bytes], R]
    ) -> R:
        try:
            probe = self._breaker.admit()
        except BreakerOpenError as exc:
            self._record.failure(endpoint, exc.reason)
            self._failed(endpoint, exc, attempts=0)
            raise
        state = _RequestState()
        answered: bool | None = None  # did the NMS answer? None: no verdict (cancelled, a bug)
        try:
            result = await self._with_retries(endpoint, params, parse, state)
            answered = True
        except NmsError as exc:
            # Retryable errors mean unreachable or unwell; the others (auth, 4xx, too large)
            # come from an NMS that answered.
            answered = not exc.retryable
            self._failed(endpoint, exc, state.attempts)
            raise
        finally:
            self._settle_breaker(probe, answered)
        self._record.up(True)
        return result

    def _settle_breaker(self, probe: bool, answered: bool | None) -> None:
        if answered is None:
            self._breaker.abandoned(probe)
        elif answered:
            self._breaker.succeeded(probe)
        else:
            self._breaker.failed(probe)

    async def _with_retries(
        self,
        endpoint: str,
        params: Mapping[str, str],
        parse: Callable[[bytes], R],
        state: _RequestState,
    ) -> R:
        def log_retry(retry_state: RetryCallState) -> None:
            _log_retry(self._name, endpoint, retry_state)

        async for attempt in self._retry.retrying(self._sleep, before_sleep=log_retry):
            with attempt:
                state.attempts += 1
                return await self._attempt(endpoint, params, parse, state)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _failed(self, endpoint: str, error: NmsError, attempts: int | None) -> None:
        """A request finally failed: one log line, ``padtec_nms_up`` 0."""
        self._record.up(False)
        fields: dict[str, object] = {
            "nms": self._name,
            "endpoint": endpoint,
            "reason": error.reason,
            "error": str(error),
        }
        if attempts is not None:
            fields["attempts"] = attempts
        log.warning("nms request failed", extra={"fields": fields})

    # -- one attempt: token, exchange, renewal, status -------------------------------------
    async def _attempt(
        self,
        endpoint: str,
        params: Mapping[str, str],
        parse: Callable[[bytes], R],
        state: _RequestState,
    ) -> R:
        token = await self._token(endpoint, self._tokens.current())
        reply = await self._get(endpoint, params, token)
        if reply.status in REFUSED:
            if state.renewed:
                self._refused(endpoint, reply, "again")
            token = await self._token(endpoint, self._tokens.renew(token))
            state.renewed = True  # renewal is not a retry: no backoff, no attempt spent
            reply = await self._get(endpoint, params, token)
            if reply.status in REFUSED:
                self._refused(endpoint, reply, "after renewing it")
        self._check_status(endpoint, reply)
        try:
            return parse(reply.body)
        except MalformedReply as exc:
            self._record.failure(endpoint, exc.reason)
            raise malformed_reply(reply.method, reply.url, str(exc), reply.body) from None

    async def _token(self, endpoint: str, obtain: Awaitable[Token]) -> Token:
        """The token, or a counted auth failure when none could be read (login failures are
        counted on the login's own exchange)."""
        try:
            return await obtain
        except TokenUnavailable as exc:
            self._record.failure(endpoint, exc.reason)
            raise

    def _refused(self, endpoint: str, reply: Reply, when: str) -> NoReturn:
        self._record.failure(endpoint, AuthError.reason)
        raise token_refused(reply.method, reply.url, reply.status, reply.body, when=when)

    def _check_status(self, endpoint: str, reply: Reply) -> None:
        """Raise (and count) the error an unsuccessful status means."""
        status = reply.status
        if 200 <= status < 300:
            return
        error = status_failure(
            reply.method,
            reply.url,
            status,
            reply.body,
            retry_after=parse_retry_after(reply.headers.get("retry-after")),
            location=reply.headers.get("location"),
        )
        self._record.failure(endpoint, error.reason)
        raise error

    async def _get(self, endpoint: str, params: Mapping[str, str], token: Token) -> Reply:
        request = self._http.build_request(
            "GET", self._url(endpoint), params=params, headers={"Authorization": token.header}
        )
        return await self._exchange(endpoint, request)

    async def _login(self, username: str, password: str, client_id: str) -> str:
        body = {"username": username, "password": password, "clientId": client_id}
        request = self._http.build_request("POST", self._url(LOGIN_ENDPOINT), json=body)
        reply = await self._exchange(LOGIN_ENDPOINT, request)
        if 400 <= reply.status < 500 and reply.status != 429:
            # A 404 means a wrong base URL or prefix (reason http_4xx), not a wrong password.
            refused = login_failure(reply.url, reply.status, reply.body, secrets=(password,))
            self._record.failure(LOGIN_ENDPOINT, refused.reason)
            raise refused
        self._check_status(LOGIN_ENDPOINT, reply)
        try:
            token = msgspec.json.decode(reply.body, type=_LoginReply).token
        except (msgspec.DecodeError, msgspec.ValidationError):
            self._record.failure(LOGIN_ENDPOINT, MalformedReply.reason)
            raise MalformedReply(f"{LOGIN_ENDPOINT}: the reply carries no token") from None
        return token

    # -- one HTTP exchange -----------------------------------------------------------------
    async def _exchange(self, endpoint: str, request: httpx2.Request) -> Reply:
        """Send under the concurrency limit and read the body up to the size cap; every
        exchange is counted with its status code (``error`` when none) and its duration.

        Once sent, an exchange is never cancelled half-way: it runs in its own task, which a
        cancelled caller (a speculative page past the end) leaves to finish within the client's
        timeouts. httpcore2 (like httpcore 1.0.9) shields its stream close with anyio only, so a
        native asyncio cancellation landing in httpx2's close of a fully read body skips the
        pool's bookkeeping and leaves the request in the pool for good (seen: one entry per
        ~25 requests with page_size 10 against an HTTP/1.0 server).
        """
        await self._slots.acquire()  # cancelled while waiting: nothing was sent
        task = asyncio.ensure_future(self._exchange_holding_slot(endpoint, request))
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _exchange_holding_slot(self, endpoint: str, request: httpx2.Request) -> Reply:
        try:
            return await self._exchange_now(endpoint, request)
        finally:
            self._slots.release()

    async def _exchange_now(self, endpoint: str, request: httpx2.Request) -> Reply:
        started = time.perf_counter()
        code = "error"
        try:
            response = await self._http.send(request, stream=True)
            code = str(response.status_code)
            self._answered(response.headers.get("date"))
            try:
                body = await self._read_capped(endpoint, response)
            finally:
                await response.aclose()
            return Reply(
                response.status_code, response.headers, body, request.method, str(request.url)
            )
        except httpx2.TimeoutException as exc:
            raise self._transport_failure(endpoint, request, exc, timed_out=True) from None
        except httpx2.DecodingError:
            self._record.failure(endpoint, MalformedReply.reason)
            raise MalformedReply(f"{endpoint}: the body's encoding is broken") from None
        except httpx2.RequestError as exc:
            raise self._transport_failure(endpoint, request, exc, timed_out=False) from None
        finally:
            self._record.attempt(endpoint, code, time.perf_counter() - started)

    def _transport_failure(
        self, endpoint: str, request: httpx2.Request, exc: httpx2.RequestError, *, timed_out: bool
    ) -> TransportFailure:
        error = transport_failure(request.method, str(request.url), exc, timed_out=timed_out)
        self._record.failure(endpoint, error.reason)
        self._unreachable(endpoint, error)
        return error

    def _answered(self, date: str | None) -> None:
        self.last_response_at = now = time.monotonic()
        if date:
            self._server_date = (date, now)
        if not self._reachable:
            self._reachable = True
            log.info("nms answers again", extra={"fields": {"nms": self._name}})

    def _unreachable(self, endpoint: str, error: TransportFailure) -> None:
        """The first timed-out or refused attempt already shows: ``padtec_nms_up`` 0 and one
        line, without waiting for the retries (a hung NMS would otherwise hide for minutes)."""
        self._record.up(False)
        if self._reachable:
            self._reachable = False
            log.warning(
                "nms unreachable; retrying",
                extra={
                    "fields": {
                        "nms": self._name,
                        "endpoint": endpoint,
                        "reason": error.reason,
                        "error": str(error),
                    }
                },
            )

    async def _read_capped(self, endpoint: str, response: httpx2.Response) -> bytes:
        """The body, refused as soon as it exceeds ``max_response_bytes`` (never buffered)."""
        limit = self._config.max_response_bytes
        declared = response.headers.get("content-length", "")
        size = int(declared) if declared.isdigit() else 0
        chunks: list[bytes] = []
        if size <= limit:
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
        if size > limit:
            self._record.failure(endpoint, ResponseTooLarge.reason)
            raise ResponseTooLarge(f"{endpoint}: reply larger than {limit} bytes")
        return b"".join(chunks)

    def _url(self, endpoint: str) -> str:
        return f"{self._base}/{endpoint.lstrip('/')}"


def _retrieve(task: asyncio.Future[Reply]) -> None:
    """An exchange whose caller was cancelled: its outcome is nobody's, and not an error."""
    if not task.cancelled():
        task.exception()


class _LoginReply(msgspec.Struct):
    token: str


def _decode_json(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise MalformedReply(f"not valid JSON: {exc}") from None


def _log_retry(nms: str, endpoint: str, state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome is not None else None
    log.debug(
        "nms request attempt failed, retrying",
        extra={
            "fields": {
                "nms": nms,
                "endpoint": endpoint,
                "reason": error.reason if isinstance(error, NmsError) else "error",
                "attempt": state.attempt_number,
                "wait_seconds": round(state.upcoming_sleep, 3),
            }
        },
    )


def _api_base(config: NmsConfig) -> str:
    parts = [config.base_url.rstrip("/"), config.api_prefix.strip("/")]
    return "/".join(part for part in parts if part)


def _tls_verification(config: NmsConfig) -> ssl.SSLContext | bool:
    if not config.tls.verify:
        return False
    if config.tls.ca_file:
        try:
            return ssl.create_default_context(cafile=config.tls.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"nms '{config.name}': tls.ca_file {config.tls.ca_file}: cannot be used ({exc})"
            ) from None
    return True
