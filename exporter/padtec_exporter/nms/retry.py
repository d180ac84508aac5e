"""When to try a request again, and how long to wait first (tenacity)."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from padtec_exporter.config import RetryConfig
from padtec_exporter.nms.errors import NmsError, RateLimited

# A 429 asks to slow down, not to give up: rate-limited attempts get this many times
# ``retry.attempts`` (each waits the Retry-After the NMS asked for, capped).
RATE_LIMITED_ATTEMPTS_FACTOR = 4


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, NmsError) and error.retryable


class RetryPolicy:
    def __init__(
        self,
        config: RetryConfig,
        *,
        jitter: Callable[[float, float], float] = random.uniform,
    ) -> None:
        self._config = config
        self._jitter = jitter

    def retrying(
        self,
        sleep: Callable[[float], Awaitable[None]],
        *,
        before_sleep: Callable[[RetryCallState], None] | None = None,
    ) -> AsyncRetrying:
        """A fresh tenacity loop for one logical request; the last error is re-raised."""
        return AsyncRetrying(
            stop=self.should_stop,
            wait=self.wait_seconds,
            retry=retry_if_exception(is_retryable),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def should_stop(self, state: RetryCallState) -> bool:
        attempts = self._config.attempts
        if isinstance(_error(state), RateLimited):
            attempts *= RATE_LIMITED_ATTEMPTS_FACTOR
        return state.attempt_number >= attempts

    def wait_seconds(self, state: RetryCallState) -> float:
        """Retry-After when the NMS sent one (capped), else exponential backoff plus jitter."""
        config = self._config
        error = _error(state)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(min(retry_after, config.max_retry_after_seconds))
        exponential = config.initial_backoff_seconds * 2.0 ** (state.attempt_number - 1)
        backoff = min(config.max_backoff_seconds, exponential)
        return float(backoff + self._jitter(0.0, config.jitter_seconds))


def _error(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None else None


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """``Retry-After`` as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # "-0000": HTTP dates are GMT anyway
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - now()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)
