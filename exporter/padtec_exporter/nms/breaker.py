"""Circuit breaker: stop hammering an NMS that keeps failing, probe it now and then.

Closed: requests go out; ``failure_threshold`` consecutive failed requests open it. Open:
requests are refused at once for ``reset_timeout_seconds``. Then half-open: exactly one probe
goes out (the others are still refused); its success closes the breaker, its failure re-opens
it. A probe that ends with neither (cancelled) gives the next request the chance to probe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

from padtec_exporter.config import BreakerConfig
from padtec_exporter.nms.errors import BreakerOpenError

log = logging.getLogger(__name__)


class State(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        config: BreakerConfig,
        *,
        clock: Callable[[], float],
        on_change: Callable[[bool], None],
        name: str = "",
    ) -> None:
        self._threshold = config.failure_threshold
        self._reset_timeout = config.reset_timeout_seconds
        self._clock = clock
        self._on_change = on_change  # called with True when it opens, False when it closes
        self._name = name
        self.state = State.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    def admit(self) -> bool:
        """Let a request out, or raise BreakerOpenError. True when the request is the probe."""
        if self.state is State.OPEN:
            if self._clock() - self._opened_at < self._reset_timeout:
                raise BreakerOpenError("circuit breaker open: the NMS failed repeatedly")
            self.state = State.HALF_OPEN
        if self.state is State.HALF_OPEN:
            if self._probe_in_flight:
                raise BreakerOpenError("circuit breaker half-open: a probe request is in flight")
            self._probe_in_flight = True
            return True
        return False

    def succeeded(self, probe: bool) -> None:
        """The NMS answered: whatever the state, it is reachable again."""
        if probe:
            self._probe_in_flight = False
        self._failures = 0
        if self.state is not State.CLOSED:
            self.state = State.CLOSED
            log.info("nms circuit breaker closed", extra={"fields": {"nms": self._name}})
            self._on_change(False)

    def failed(self, probe: bool) -> None:
        if probe and self.state is State.HALF_OPEN:
            self._probe_in_flight = False
            self._open()
        elif self.state is State.CLOSED:
            self._failures += 1
            if self._failures >= self._threshold:
                self._open()
        # A request let out before the breaker opened says nothing new: the clock stays.

    def abandoned(self, probe: bool) -> None:
        """The request ended without an outcome (cancelled): free the probe slot."""
        if probe and self.state is State.HALF_OPEN:
            self._probe_in_flight = False
            self.state = State.OPEN  # the reset timeout has passed: the next request probes

    def _open(self) -> None:
        was_closed = self.state is State.CLOSED
        self.state = State.OPEN
        self._opened_at = self._clock()
        if was_closed:
            log.warning(
                "nms circuit breaker opened",
                extra={
                    "fields": {
                        "nms": self._name,
                        "failures": self._failures,
                        "retry_in_seconds": self._reset_timeout,
                    }
                },
            )
            self._on_change(True)
