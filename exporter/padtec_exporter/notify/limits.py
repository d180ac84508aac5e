"""Rate limiting (token bucket per recipient) and deduplication (seen keys with expiry)."""

from __future__ import annotations

from collections.abc import Callable


class TokenBuckets:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, last time)

    def take(self, key: str) -> bool:
        now = self._clock()
        tokens, last = self._buckets.get(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True


class RecentKeys:
    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self._window = window
        self._clock = clock
        self._seen: dict[str, float] = {}

    def seen(self, key: str) -> bool:
        now = self._clock()
        if len(self._seen) > 10_000:
            self._seen = {k: t for k, t in self._seen.items() if now - t < self._window}
        at = self._seen.get(key)
        return at is not None and now - at < self._window

    def remember(self, key: str) -> None:
        self._seen[key] = self._clock()
