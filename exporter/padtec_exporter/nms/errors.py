"""Errors of NMS requests. Transient ones are retried; the rest end the request at once."""

from __future__ import annotations


class NmsError(Exception):
    """A request to the NMS failed; ``reason`` is the failure label of the metrics."""

    reason = "error"


class TransientError(NmsError):
    """Worth retrying: the same request may well succeed a moment later."""


class TransportFailure(TransientError):
    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "timeout" or "connect"


class ServerError(TransientError):
    reason = "http_5xx"


class RateLimited(TransientError):
    reason = "http_429"

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MalformedReply(TransientError):
    """The body is not the expected shape (not JSON, not an array, truncated...)."""

    reason = "malformed"


class AuthError(NmsError):
    reason = "auth"


class RequestFailed(NmsError):
    """A 4xx other than 401/403/429: the request itself is wrong, retrying will not help."""

    reason = "http_4xx"


class ResponseTooLarge(NmsError):
    reason = "too_large"


class PagingError(NmsError):
    """The pages never end (limit reached) or repeat themselves (the NMS ignores ``page``)."""

    reason = "malformed"


class BreakerOpenError(NmsError):
    reason = "breaker_open"
