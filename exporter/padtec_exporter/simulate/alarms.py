"""The NMS alarm list: active alarms and history rows (with an end date).

Names, groups and severities follow those seen in the Feb 2025 manual (Portuguese or English
names; groups LOS, FAIL, THRESHOLD, LASER OFF, LOS Sync, TEMPERATURE, ...). Which alarm a
fault raises, and its severity, is our assumption.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from padtec_exporter.simulate.network import Card

DAY = 86400.0
FIRST_OID = 753_000
HISTORY_LIMIT = 10_000  # oldest history rows are forgotten beyond this (long chaos runs)
SEVERITIES = ("CRITICAL", "MAJOR", "MINOR", "WARNING", "UNKNOWN", "CLEARED")


@dataclass(frozen=True, slots=True)
class AlarmKind:
    name: str
    group: str
    severity: str
    port: str | None
    resource: str = ""  # seen as "" in the manual's sample


CARD_FAIL = AlarmKind("Falha de placa", "FAIL", "CRITICAL", None)
PUMP_OUT_OF_RANGE = AlarmKind("Pump power out of range", "THRESHOLD", "MAJOR", "Pump")
OSNR_LOW = AlarmKind("OSNR below the minimum threshold", "THRESHOLD", "MAJOR", "Line 1")


def loss_of_signal(port: str | None) -> AlarmKind:
    return AlarmKind(f"Perda de sinal ({port or 'IN'})", "LOS", "CRITICAL", port)


# Standing low-severity alarms of a real network (unused ports, warm rooms), and past troubles.
_STANDING = {
    "TRANSPONDER": (
        AlarmKind("LOS Sync (Client 2)", "LOS Sync", "MINOR", "Client 2"),
        AlarmKind("Laser desligado (Line 2)", "LASER OFF", "WARNING", None),
    ),
    "AMPLIFIER": (AlarmKind("Temperatura elevada", "TEMPERATURE", "WARNING", None),),
}
_PAST = {
    "TRANSPONDER": (AlarmKind("Pin below the minimum threshold", "THRESHOLD", "MAJOR", "Line 1"),),
    "AMPLIFIER": (AlarmKind("Perda de sinal (IN Line)", "LOS", "CRITICAL", "IN Line"),),
}


def kinds_for(family: str) -> tuple[AlarmKind, ...]:
    """Every alarm kind the simulator can raise on a card family (alarm/capability)."""
    kinds = [CARD_FAIL, *_STANDING.get(family, ()), *_PAST.get(family, ())]
    if family == "AMPLIFIER":
        kinds += [PUMP_OUT_OF_RANGE, loss_of_signal("IN Line")]
    if family == "TRANSPONDER":
        kinds += [OSNR_LOW, loss_of_signal("Line 1")]
    return tuple(dict.fromkeys(kinds))


@dataclass(slots=True)
class Alarm:
    oid: int
    card: Card
    kind: AlarmKind
    start: float
    end: float | None = None
    ack: float | None = None
    cause: str | None = None  # the fault (id) that raised it; None for background alarms

    @property
    def active(self) -> bool:
        return self.end is None


class AlarmBook:
    """All alarms in oid order; ``version`` bumps on every change (page caches key on it)."""

    def __init__(self) -> None:
        self.alarms: list[Alarm] = []
        self._next_oid = FIRST_OID
        self.version = 0

    def raise_alarm(
        self, card: Card, kind: AlarmKind, start: float, cause: str | None = None
    ) -> Alarm:
        alarm = Alarm(oid=self._next_oid, card=card, kind=kind, start=start, cause=cause)
        self._next_oid += 1
        self.alarms.append(alarm)
        self.version += 1
        return alarm

    def end(self, alarm: Alarm, when: float) -> None:
        if alarm.active:
            alarm.end = when
            self.version += 1
            self._forget_old_history()

    def find_active(self, card: Card, kind: AlarmKind, cause: str) -> Alarm | None:
        for alarm in self.alarms:
            if alarm.active and alarm.card is card and alarm.kind == kind and alarm.cause == cause:
                return alarm
        return None

    def end_caused_by(self, cause: str, when: float) -> None:
        for alarm in self.alarms:
            if alarm.cause == cause:
                self.end(alarm, when)

    def end_for_card(self, card: Card, when: float) -> None:
        for alarm in self.alarms:
            if alarm.card is card:
                self.end(alarm, when)

    def active(self) -> list[Alarm]:
        return [alarm for alarm in self.alarms if alarm.active]

    def _forget_old_history(self) -> None:
        history = len(self.alarms) - len(self.active())
        if history > HISTORY_LIMIT:
            drop = history - HISTORY_LIMIT
            kept = []
            for alarm in self.alarms:
                if drop and not alarm.active:
                    drop -= 1
                    continue
                kept.append(alarm)
            self.alarms = kept


def add_background_alarms(book: AlarmBook, cards: list[Card], seed: int, now: float) -> None:
    """Standing MINOR/WARNING alarms on some cards, and history rows of past troubles."""
    rng = random.Random(seed + 7)
    for card in cards[3::7]:
        family = card.model.family
        standing = _STANDING.get(family)
        if standing:
            alarm = book.raise_alarm(card, rng.choice(standing), now - rng.uniform(3600, 30 * DAY))
            if rng.random() < 0.5:
                alarm.ack = alarm.start + rng.uniform(60, 7200)
        past = _PAST.get(family)
        if past:
            start = now - rng.uniform(DAY, 20 * DAY)
            alarm = book.raise_alarm(card, rng.choice(past), start)
            alarm.ack = start + rng.uniform(60, 600)
            alarm.end = start + rng.uniform(600, 7200)
