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
from urllib.parse import urlencode

import aiohttp
import msgspec
from aiohttp import hdrs
from aiohttp.helpers import get_env_proxy_for_url
from aiohttp.http_exceptions import ContentEncodingError
from multidict import CIMultiDictProxy
from tenacity import RetryCallState
from yarl import URL

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
    client_rebuilt,
    login_failure,
    malformed_reply,
    status_failure,
    token_refused,
    transport_failure,
)
from padtec_exporter.nms.metrics import NmsMetrics
from padtec_exporter.nms.paging import Decoder, FetchedPage, Sweep, fetch_pages
from padtec_exporter.nms.retry import RetryPolicy, is_retryable, parse_retry_after

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")
LOGIN_ENDPOINT = "admin/login"
REFUSED = (401, 403)  # a 403 was seen for CSRF: any 403 is treated as a refused token


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: CIMultiDictProxy[str]  # case-insensitive
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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._name = config.name
        self._record = metrics.recorder(config.name)
        self._sleep = sleep
        self._base = _api_base(config)
        self._ssl = _tls_verification(config)  # a bad ca_file is a config error, at once
        # Created on first use: an aiohttp session belongs to the running event loop.
        self._http: aiohttp.ClientSession | None = None
        # Exchanges in flight (each its own task, see _exchange), and those reset() dropped.
        self._exchanges: set[asyncio.Task[Reply]] = set()
        self._dropped: set[asyncio.Task[Reply]] = set()
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
        await self._drop_http(rebuilding=False)

    def _session(self) -> aiohttp.ClientSession:
        http = self._http
        if http is None:
            http = self._http = self._new_http()
        return http

    def _new_http(self) -> aiohttp.ClientSession:
        config = self._config
        limit = config.max_concurrency
        # httpx honoured HTTP(S)_PROXY / NO_PROXY; aiohttp's trust_env would look them up
        # (and ~/.netrc) in a thread on every request: looked up once per session instead.
        try:
            proxy, proxy_auth = get_env_proxy_for_url(URL(self._base))
        except LookupError:
            proxy, proxy_auth = None, None
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=limit, limit_per_host=limit, ssl=self._ssl),
            timeout=aiohttp.ClientTimeout(
                total=None,  # a page may take long as long as bytes keep coming
                # DNS, TCP and TLS; a pooled connection is never waited for (the slots).
                connect=config.connect_timeout_seconds,
                sock_connect=config.connect_timeout_seconds,
                # No byte for this long, as httpx's read timeout (reset by every byte).
                sock_read=config.read_timeout_seconds,
            ),
            proxy=proxy,
            proxy_auth=proxy_auth,
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # as httpx: cookies of IP hosts too
        )

    async def reset(self) -> None:
        """A fresh HTTP client (new pool, new connections): the safety net after a stalled
        run. Requests still in flight on the old one fail and are retried on the new one."""
        await self._drop_http(rebuilding=True)
        log.warning("nms http client rebuilt", extra={"fields": {"nms": self._name}})

    async def _drop_http(self, *, rebuilding: bool) -> None:
        """Close the session and end the exchanges in flight on it (aiohttp would leave a body
        read waiting forever, its read timeout dropped, when the session closes under it).
        Rebuilding, they fail as retryable transport failures; closing, they are cancelled."""
        old, self._http = self._http, None
        in_flight = list(self._exchanges)
        if rebuilding:
            self._dropped.update(in_flight)
        for task in in_flight:
            task.cancel()
        with contextlib.suppress(Exception):  # a wedged pool must not wedge the reset too
            async with asyncio.timeout(5.0):
                if in_flight:
                    await asyncio.wait(in_flight)
                if old is not None:
                    await old.close()

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
                endpoint, self._page_url(endpoint, params, 1, size), decode
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

        head = self._page_url(endpoint, params, None, size)  # filters encoded once per view

        async def fetch(number: int) -> FetchedPage[T]:
            return await self._request(endpoint, f"{head}&page={number}", parse)

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
        return await self._request(endpoint, self._query_url(endpoint, params), _decode_json)

    # -- one logical request: breaker, attempts, outcome -----------------------------------
    async def _request(self, endpoint: str, url: str, parse: Callable[[bytes], R]) -> R:
        """``url``: the request's whole URL, query included (built once, sent as is)."""
        try:
            probe = self._breaker.admit()
        except BreakerOpenError as exc:
            self._record.failure(endpoint, exc.reason)
            self._failed(endpoint, exc, attempts=0)
            raise
        state = _RequestState()
        answered: bool | None = None  # did the NMS answer? None: no verdict (cancelled, a bug)
        try:
            result = await self._with_retries(endpoint, url, parse, state)
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
        self, endpoint: str, url: str, parse: Callable[[bytes], R], state: _RequestState
    ) -> R:
        # The first attempt runs outside tenacity: its loop costs more CPU than a page's HTTP
        # exchange and leaves cyclic garbage behind (measured: bench/nms_clients.py). Once it
        # failed retryably, tenacity takes over from that outcome: the same attempts, waits
        # and log lines as if it had run the first attempt itself.
        state.attempts += 1
        try:
            return await self._attempt(endpoint, url, parse, state)
        except NmsError as exc:
            if not is_retryable(exc):
                raise
            first: NmsError | None = exc

        def log_retry(retry_state: RetryCallState) -> None:
            _log_retry(self._name, endpoint, retry_state)

        async for attempt in self._retry.retrying(self._sleep, before_sleep=log_retry):
            with attempt:
                if first is not None:
                    error, first = first, None
                    raise error  # tenacity's attempt 1: the outcome above
                state.attempts += 1
                return await self._attempt(endpoint, url, parse, state)
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
        self, endpoint: str, url: str, parse: Callable[[bytes], R], state: _RequestState
    ) -> R:
        token = await self._token(endpoint, self._tokens.current())
        reply = await self._get(endpoint, url, token)
        if reply.status in REFUSED:
            if state.renewed:
                self._refused(endpoint, reply, "again")
            token = await self._token(endpoint, self._tokens.renew(token))
            state.renewed = True  # renewal is not a retry: no backoff, no attempt spent
            reply = await self._get(endpoint, url, token)
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

    async def _get(self, endpoint: str, url: str, token: Token) -> Reply:
        return await self._exchange(endpoint, "GET", url, {"Authorization": token.header})

    async def _login(self, username: str, password: str, client_id: str) -> str:
        body = {"username": username, "password": password, "clientId": client_id}
        reply = await self._exchange(
            LOGIN_ENDPOINT,
            "POST",
            self._url(LOGIN_ENDPOINT),
            {"Content-Type": "application/json"},
            msgspec.json.encode(body),
        )
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
    async def _exchange(
        self,
        endpoint: str,
        method: str,
        url: str,
        headers: dict[str, str],
        data: bytes | None = None,
    ) -> Reply:
        """Send under the concurrency limit and read the body up to the size cap; every
        exchange is counted with its status code (``error`` when none) and its duration.

        Once sent, an exchange is never cancelled half-way: it runs in its own task, which a
        cancelled caller (a speculative page past the end) leaves to finish within the client's
        timeouts, so its connection goes back to the pool whole instead of being torn down,
        and no HTTP library's cancellation path is trusted with the pool's bookkeeping
        (httpcore 1.0.9 and httpcore2 both lost pool slots there).
        """
        await self._slots.acquire()  # cancelled while waiting: nothing was sent
        task = asyncio.ensure_future(
            self._exchange_holding_slot(endpoint, method, url, headers, data)
        )
        self._exchanges.add(task)
        task.add_done_callback(self._exchange_done)
        return await asyncio.shield(task)

    def _exchange_done(self, task: asyncio.Task[Reply]) -> None:
        self._exchanges.discard(task)
        self._dropped.discard(task)
        if not task.cancelled():
            task.exception()  # a cancelled caller's outcome is nobody's, and not an error

    async def _exchange_holding_slot(
        self, endpoint: str, method: str, url: str, headers: dict[str, str], data: bytes | None
    ) -> Reply:
        try:
            return await self._exchange_now(endpoint, method, url, headers, data)
        except asyncio.CancelledError:
            if asyncio.current_task() not in self._dropped:
                raise
            raise self._transport_failure(endpoint, client_rebuilt(method, url)) from None
        finally:
            self._slots.release()

    async def _exchange_now(
        self, endpoint: str, method: str, url: str, headers: dict[str, str], data: bytes | None
    ) -> Reply:
        started = time.perf_counter()
        code = "error"
        try:
            async with self._session().request(
                method, URL(url, encoded=True), headers=headers, data=data, allow_redirects=False
            ) as response:
                status = response.status
                code = str(status)
                self._answered(response.headers.get(hdrs.DATE))
                body = await self._read_capped(endpoint, response)
            return Reply(status, response.headers, body, method, url)
        except (aiohttp.ServerTimeoutError, TimeoutError) as exc:  # connect, or no byte read
            failure = transport_failure(method, url, exc, timed_out=True)
            raise self._transport_failure(endpoint, failure) from None
        except aiohttp.ClientPayloadError as exc:
            if isinstance(exc.__cause__ or exc.__context__, ContentEncodingError):
                self._record.failure(endpoint, MalformedReply.reason)
                raise MalformedReply(f"{endpoint}: the body's encoding is broken") from None
            failure = transport_failure(method, url, exc, timed_out=False)
            raise self._transport_failure(endpoint, failure) from None
        except (aiohttp.ClientError, OSError) as exc:
            failure = transport_failure(method, url, exc, timed_out=False)
            raise self._transport_failure(endpoint, failure) from None
        finally:
            self._record.attempt(endpoint, code, time.perf_counter() - started)

    def _transport_failure(self, endpoint: str, error: TransportFailure) -> TransportFailure:
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

    async def _read_capped(self, endpoint: str, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused as soon as it exceeds ``max_response_bytes`` (never buffered)."""
        limit = self._config.max_response_bytes
        declared = response.content_length
        if declared is not None and declared > limit:
            self._too_large(endpoint, limit)
        if declared is not None and hdrs.CONTENT_ENCODING not in response.headers:
            return await response.read()  # the parser stops at Content-Length: read whole
        # Chunked, till-close or compressed (inflated in bounded steps): counted as it comes.
        size = 0
        chunks: list[bytes] = []
        async for chunk in response.content.iter_any():
            size += len(chunk)
            if size > limit:
                self._too_large(endpoint, limit)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, endpoint: str, limit: int) -> NoReturn:
        self._record.failure(endpoint, ResponseTooLarge.reason)
        raise ResponseTooLarge(f"{endpoint}: reply larger than {limit} bytes")

    def _url(self, endpoint: str) -> str:
        return f"{self._base}/{endpoint.lstrip('/')}"

    def _query_url(self, endpoint: str, params: Mapping[str, str] | None) -> str:
        url = self._url(endpoint)
        return f"{url}?{urlencode(params)}" if params else url

    def _page_url(
        self, endpoint: str, params: Mapping[str, str], number: int | None, size: int
    ) -> str:
        """The view's filters, then ``size`` and ``page`` (left for the caller when None)."""
        query = {k: v for k, v in params.items() if k not in ("page", "size")}
        query["size"] = str(size)
        url = self._query_url(endpoint, query)
        return url if number is None else f"{url}&page={number}"


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
    """The API's root, percent-encoded once (requests pass their URL as already encoded) and
    without a ``user:password@`` part (aiohttp would make it a second Authorization)."""
    parts = [config.base_url.rstrip("/"), config.api_prefix.strip("/")]
    return str(URL("/".join(part for part in parts if part)).with_user(None))


def _tls_verification(config: NmsConfig) -> ssl.SSLContext | bool:
    """False: no verification. True: the system's CAs (SSL_CERT_FILE / SSL_CERT_DIR honoured,
    as httpx did), in aiohttp's shared default context. Or a context of the CA file."""
    if not config.tls.verify:
        return False
    if not config.tls.ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=config.tls.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"nms '{config.name}': tls.ca_file {config.tls.ca_file}: cannot be used ({exc})"
        ) from None
