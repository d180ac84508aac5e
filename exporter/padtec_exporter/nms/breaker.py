"""Circuit breaker: stop hammering an NMS that keeps failing, probe it now and then."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from padtec_exporter.nms.errors import BreakerOpenError


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int,
        reset_timeout: float,
        clock: Callable[[], float],
        on_change: Callable[[bool], None],
    ) -> None:
        self._threshold = failure_threshold
        self._reset_timeout = reset_timeout
        self._clock = clock
        self._on_change = on_change
        self.state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    def before_request(self) -> None:
        """Raise BreakerOpenError unless a request may go out now."""
        if self.state is State.OPEN:
            if self._clock() - self._opened_at < self._reset_timeout:
                raise BreakerOpenError("circuit breaker open: the NMS failed repeatedly")
            self.state = State.HALF_OPEN
            self._probing = False
        if self.state is State.HALF_OPEN:
            if self._probing:
                raise BreakerOpenError("circuit breaker half-open: a probe is in flight")
            self._probing = True

    def success(self) -> None:
        was_open = self.state is not State.CLOSED
        self.state = State.CLOSED
        self._failures = 0
        self._probing = False
        if was_open:
            self._on_change(False)

    def failure(self) -> None:
        self._failures += 1
        if self.state is State.HALF_OPEN or self._failures >= self._threshold:
            was_open = self.state is State.OPEN
            self.state = State.OPEN
            self._opened_at = self._clock()
            self._probing = False
            if not was_open:
                self._on_change(True)
