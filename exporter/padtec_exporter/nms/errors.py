"""Errors of NMS requests.

Below the classes, the wording: every error line names the URL tried (never a credential), the
kind of failure and the likely fix.

``reason`` is the ``reason`` label of ``padtec_nms_request_failures_total``; ``retryable`` says
whether the same request may well succeed a moment later. Messages never carry a secret.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import ClassVar
from urllib.parse import urlsplit, urlunsplit

import aiohttp


class NmsError(Exception):
    """A request to the NMS failed."""

    reason: str = "error"
    retryable: ClassVar[bool] = False


class AuthError(NmsError):
    """The NMS refused the token, also after a renewal, or no token could be obtained."""

    reason = "auth"


class TokenUnavailable(AuthError):
    """No token could be read (token or password file, environment variable): nothing sent."""


class BreakerOpenError(NmsError):
    """Refused without an HTTP call: the NMS failed repeatedly and the breaker is open."""

    reason = "breaker_open"


class MalformedReply(NmsError):
    """The body is not the expected shape (not JSON, not an array, truncated, HTML...)."""

    reason = "malformed"
    retryable = True


class ResponseTooLarge(NmsError):
    """The body exceeds ``max_response_bytes``; retrying would fetch the same bytes again."""

    reason = "too_large"


class PagingError(NmsError):
    """The pages never end (``max_pages``) or repeat themselves (the NMS ignores ``page``)."""

    reason = "malformed"


class RequestFailed(NmsError):
    """The NMS answered with an error status or could not be reached (after the retries)."""

    reason = "http_4xx"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        # Seconds the NMS asked us to wait (its Retry-After header), when it said.
        self.retry_after = retry_after


class ServerError(RequestFailed):
    reason = "http_5xx"
    retryable = True


class RateLimited(RequestFailed):
    reason = "http_429"
    retryable = True


class TransportFailure(RequestFailed):
    """No response at all: connection refused or reset, DNS, TLS, or a timeout."""

    retryable = True

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.reason = "timeout" if timed_out else "connect"


# -- wording: one line per failure, naming the URL tried, the kind of failure and the fix ------
# The client builds its errors here so that every NMS error reads the same way:
#   "<METHOD> <url>: <what happened> — likely fix: <what to change>"
# URLs lose any user:password part; bodies are cut to their first bytes with known secrets
# masked. Tokens and passwords travel in headers and bodies, never in URLs, so the query
# string (page, size, filters) is kept: it is what the operator needs to retry by hand.

BODY_EXCERPT_BYTES = 120
_API_HOME = (
    "the Smart API lives at http://HOST:8181/nms-api with api_prefix v1 (older builds: /api)"
)
# The likely fix of each kind of failure (one place to reword them).
FIXES: dict[str, str] = {
    "connect_timeout": (
        "a firewall drops the packets or the host is down: check the host, port and route"
    ),
    "read_timeout": (
        "the NMS is hung or overloaded; raise read_timeout_seconds only if it is merely slow"
    ),
    "dns": "check the host name in base_url (or use its IP address) and this machine's resolver",
    "refused": (
        "check the host and port of base_url (the Smart API listens on 8181 by default) "
        "and that the NMS API service runs"
    ),
    "tls": (
        "set tls.ca_file to the CA that signed the NMS certificate, "
        "or check the scheme (https to an http port?)"
    ),
    "reset": (
        "a proxy or the NMS dropped the request: check the proxy and the NMS logs; it is retried"
    ),
    "network": "check the route to the NMS",
    "rebuilt": (
        "none, it is retried; if stalls recur, check the NMS's load and read_timeout_seconds"
    ),
    "429": (
        "the NMS limits the request rate: lower max_concurrency or lengthen the collect intervals"
    ),
    "unavailable": (
        "the NMS (or a proxy in front of it) is down or overloaded: check the NMS service; "
        "it is retried"
    ),
    "5xx": "the NMS failed on this request: check the NMS logs; it is retried",
    "redirect": "set base_url to where the NMS redirects (http → https?)",
    "404": (
        "nothing answers at this path: base_url or api_prefix is wrong, or this NMS build "
        f"does not serve it; {_API_HOME}"
    ),
    "400": "the NMS refused the query: check the filters of collect.*.filters and page_size",
    "4xx": "see the body; the request is not retried",
    "login_404": (
        "nothing answers at this path: base_url or api_prefix is wrong (not the password); "
        f"{_API_HOME}"
    ),
    "login_401": (
        "wrong username or password: check auth.username and auth.password "
        "(or password_file / password_env)"
    ),
    "login_403": (
        "the account may not use the API, or a web front-end answered (CSRF): check the "
        "account's rights and that base_url is the Smart API"
    ),
    "login_4xx": "the NMS refused the login request: check auth.username and auth.client_id",
    "token": (
        "renew the token (auth.token / token_file / token_env) or check the account's rights; "
        "a 403 on every path can also mean base_url points at the web UI, not the Smart API"
    ),
    "html": (
        "a proxy, login page or the web UI answers at base_url: point base_url at the Smart API"
    ),
    "malformed": "the NMS sent a broken reply; it is retried",
}


def safe_url(url: str) -> str:
    """``url`` without a ``user:password@`` part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    return urlunsplit(parts._replace(netloc=netloc))


def host_port(url: str) -> str:
    """``host:port`` of a URL, the scheme's default port filled in."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or "?"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def body_excerpt(body: bytes, secrets: Iterable[str] = ()) -> str:
    """The first bytes of a body, one line, quoted, known secrets masked."""
    if not body.strip():
        return "empty body"
    text = body[:BODY_EXCERPT_BYTES].decode("utf-8", errors="replace")
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = " ".join(text.split())
    more = "…" if len(body) > BODY_EXCERPT_BYTES else ""
    return f"body {text!r}{more}"


def _line(method: str, url: str, what: str, fix: str) -> str:
    return f"{method} {safe_url(url)}: {what} — likely fix: {fix}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it was raised from (chains and exception groups)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


_DNS_WORDS = (
    "name or service not known",
    "temporary failure in name resolution",
    "nodename nor servname",
    "no address associated",
    "name resolution",
    "getaddrinfo",
)


def transport_kind(exc: BaseException, *, timed_out: bool) -> str:
    """What kind of failure left no response: dns, refused, tls, timeout, reset or network."""
    if timed_out:
        return "timeout"
    # aiohttp names most kinds itself; the causes below cover the rest (and other libraries).
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "dns"
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ClientConnectorCertificateError):
        return "tls"
    if isinstance(exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError):
        return "reset"
    if isinstance(exc, aiohttp.ClientConnectorError):
        exc = exc.os_error  # the wrapper's words say "ssl:default" whatever failed
    causes = list(_causes(exc))
    texts = " ".join(str(c).lower() for c in causes)
    if any(isinstance(c, socket.gaierror) for c in causes) or any(w in texts for w in _DNS_WORDS):
        return "dns"
    if any(isinstance(c, ssl.SSLError) for c in causes) or "certificate" in texts or "ssl" in texts:
        return "tls"
    if (
        any(isinstance(c, ConnectionRefusedError) for c in causes)
        # every address of a name refused: one OSError with the shared errno
        or any(getattr(c, "errno", None) == errno.ECONNREFUSED for c in causes)
        or "refused" in texts
    ):
        return "refused"
    if any(isinstance(c, ConnectionResetError | BrokenPipeError) for c in causes) or any(
        w in texts for w in ("reset", "disconnected", "closed", "incomplete")
    ):
        return "reset"
    return "network"


def timeout_phase(exc: BaseException) -> str:
    """The phase a timeout hit, named as the error lines always did (not by library class)."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "ConnectTimeout"  # DNS, TCP connect or TLS handshake: connect_timeout_seconds
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return "ReadTimeout"  # no byte for read_timeout_seconds
    return type(exc).__name__


def _tls_detail(exc: BaseException) -> str:
    """OpenSSL's own words (e.g. "certificate verify failed: unable to get local issuer
    certificate"), not a wrapper's repetition of them."""
    errors = [c for c in _causes(exc) if isinstance(c, ssl.SSLError)]
    for error in errors:
        verify = getattr(error, "verify_message", None)
        if verify:
            return str(verify)
    for error in errors:
        reason = getattr(error, "reason", None)
        if reason:
            return str(reason)
    return str(exc) or type(exc).__name__


def transport_failure(
    method: str, url: str, exc: BaseException, *, timed_out: bool
) -> TransportFailure:
    """No response at all: the line says DNS, refused, TLS, timeout or reset, and the fix."""
    kind = transport_kind(exc, timed_out=timed_out)
    where = host_port(url)
    if kind == "timeout":
        phase = timeout_phase(exc)
        if "Connect" in phase:
            what = f"timeout: no TCP connection to {where} within connect_timeout_seconds"
            fix = FIXES["connect_timeout"]
        else:
            what = (
                f"timeout ({phase}): {where} accepted the connection but did not answer "
                "within read_timeout_seconds"
            )
            fix = FIXES["read_timeout"]
    elif kind == "dns":
        what, fix = f"DNS: cannot resolve host {urlsplit(url).hostname!r}", FIXES["dns"]
    elif kind == "refused":
        what, fix = f"connection refused by {where}: nothing listens there", FIXES["refused"]
    elif kind == "tls":
        what, fix = f"TLS handshake with {where} failed ({_tls_detail(exc)})", FIXES["tls"]
    elif kind == "reset":
        what = f"{where} closed the connection without a response ({type(exc).__name__})"
        fix = FIXES["reset"]
    else:
        detail = str(exc) or "no detail"
        what = f"network error talking to {where} ({type(exc).__name__}: {detail})"
        fix = FIXES["network"]
    return TransportFailure(_line(method, url, what, fix), timed_out=timed_out)


def client_rebuilt(method: str, url: str) -> TransportFailure:
    """A request dropped by the rebuild of the HTTP client after a stalled run."""
    what = "dropped in flight: the HTTP client was rebuilt after a stall"
    return TransportFailure(_line(method, url, what, FIXES["rebuilt"]), timed_out=False)


def _status_text(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def status_failure(
    method: str,
    url: str,
    status: int,
    body: bytes,
    *,
    retry_after: float | None = None,
    location: str | None = None,
    secrets: Iterable[str] = (),
) -> RequestFailed:
    """An error status of a data request (a refused token is ``token_refused``)."""
    what = f"{_status_text(status)}, {body_excerpt(body, secrets)}"
    if status == 429:
        return RateLimited(_line(method, url, what, FIXES["429"]), retry_after=retry_after)
    if status >= 500:
        fix = FIXES["unavailable"] if status in (502, 503, 504) else FIXES["5xx"]
        return ServerError(_line(method, url, what, fix), retry_after=retry_after)
    if 300 <= status < 400:
        target = f" to {safe_url(location)}" if location else ""
        what = f"{_status_text(status)}, redirected{target} (redirects are not followed)"
        fix = FIXES["redirect"]
    elif status in (404, 405):
        fix = FIXES["404"]
    elif status == 400:
        fix = FIXES["400"]
    else:
        fix = FIXES["4xx"]
    return RequestFailed(_line(method, url, what, fix))


def login_failure(
    url: str, status: int, body: bytes, *, secrets: Iterable[str] = ()
) -> RequestFailed | AuthError:
    """A 4xx answer to ``POST admin/login``: a refused login, or no login endpoint at all
    (a 404 is a wrong URL, counted as ``http_4xx``, not as a refused password)."""
    what = f"login answered {_status_text(status)}, {body_excerpt(body, secrets)}"
    if status in (404, 405):
        return RequestFailed(_line("POST", url, what, FIXES["login_404"]))
    fix = {401: FIXES["login_401"], 403: FIXES["login_403"]}.get(status, FIXES["login_4xx"])
    return AuthError(_line("POST", url, what, fix))


def token_refused(
    method: str, url: str, status: int, body: bytes, *, when: str, secrets: Iterable[str] = ()
) -> AuthError:
    """The NMS refused the token ``when`` ("again", "after renewing it")."""
    refused = f"{_status_text(status)}, {body_excerpt(body, secrets)}"
    what = f"the NMS refused the token {when} ({refused})"
    return AuthError(_line(method, url, what, FIXES["token"]))


def malformed_reply(method: str, url: str, detail: str, body: bytes) -> MalformedReply:
    """A 2xx body that is not what the API sends (not JSON, an HTML page, a wrong shape)."""
    head = body.lstrip()[:15].lower()
    if head.startswith((b"<!doctype", b"<html", b"<?xml")):
        what, fix = f"an HTML page, not JSON ({body_excerpt(body)})", FIXES["html"]
    else:
        what, fix = f"{detail} ({body_excerpt(body)})", FIXES["malformed"]
    return MalformedReply(_line(method, url, what, fix))
