"""Healthy measure values: small noise, slow drift and a daily temperature cycle.

A value depends only on (seed, update count, card, measure): never on wall-clock time or on
the order in which pages are asked for, so two simulators with one seed agree value for value
after the same number of updates, and a page of 10 rows shows what a page of 500 shows.
"""

from __future__ import annotations

import math
import random

from padtec_exporter.simulate.network import Card

DAY = 86400.0
WEEK = 7 * DAY
DRIFT_SHARE = 0.1  # the slow drift moves a value by this share of its between-card spread
DAILY_AMPLITUDE_CELSIUS = 3.0


class Dynamics:
    def __init__(self, seed: int, update_interval_seconds: float) -> None:
        self.seed = seed
        self.update_interval_seconds = update_interval_seconds

    def _noise_stream(self, card: Card, tick: int) -> random.Random:
        # One small stream per (seed, tick, card): cards do not shift each other's noise.
        return random.Random((self.seed * 1_000_003 + tick) * 1_000_003 + card.number)

    def healthy_values(self, card: Card, tick: int) -> list[float]:
        """Every measure of ``card`` after ``tick`` updates, with no fault acting."""
        if not card.measures:
            return []
        draw = self._noise_stream(card, tick).random
        # Simulated time, not wall clock: the cycle advances one update interval per tick.
        t = tick * self.update_interval_seconds
        drift = DRIFT_SHARE * math.sin(2 * math.pi * t / WEEK + card.phase)
        daily = DAILY_AMPLITUDE_CELSIUS * math.sin(2 * math.pi * t / DAY + card.phase)
        values = []
        for kind, offset in zip(card.measures, card.offsets, strict=True):
            value = kind.typical + offset + drift * kind.spread + kind.noise * (2 * draw() - 1)
            if kind.role == "temperature":
                value += daily
            elif kind.role == "ber":
                value = max(value, 1e-9)  # a ratio: never zero or negative
            values.append(value)
        return values
