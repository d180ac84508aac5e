"""Errors of NMS requests.

``reason`` is the ``reason`` label of ``padtec_nms_request_failures_total``; ``retryable`` says
whether the same request may well succeed a moment later. Messages never carry a secret.
"""

from __future__ import annotations

from typing import ClassVar


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
