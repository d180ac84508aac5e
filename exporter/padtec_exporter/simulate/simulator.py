"""The simulated NMS state: network, value dynamics, faults and the alarms they raise."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from padtec_exporter.simulate.config import SimulatorConfig
from padtec_exporter.simulate.faults import Fault, FaultError, validate
from padtec_exporter.simulate.network import MODELS, SimCard, generate

DAY = 86400.0
PUMP_RANGE = (12.0, 24.0)


@dataclass
class SimAlarm:
    oid: int
    card: SimCard
    name: str
    group: str
    severity: str
    resource: str
    port: str | None
    start: float
    end: float | None = None
    ack: float | None = None
    fault_id: str | None = None

    @property
    def active(self) -> bool:
        return self.end is None


def _noise(card: int, measure: int, tick: int) -> float:
    """Deterministic pseudo-random number in [-1, 1) from (card, measure, tick)."""
    x = (card * 73856093) ^ (measure * 19349663) ^ (tick * 83492791)
    x = (x * 2654435761) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 2246822519) & 0xFFFFFFFF
    x ^= x >> 13
    return (x / 2147483648.0) - 1.0


class Simulator:
    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._factory, self.cards = generate(
            config.seed, config.sites, config.cards_per_site, config.extra_measures_per_card
        )
        self.by_uid = {card.uid: card for card in self.cards}
        self.started_at = clock()
        self.tick = 0
        self.tick_time = self.started_at
        self.version = 0  # bumps whenever the inventory changes (caches key on it)
        self.faults: dict[str, Fault] = {}
        self._fault_seq = 0
        self._oid = 750000
        self.alarms: list[SimAlarm] = []
        self.status_changed_at: dict[str, float] = {}
        self.rng = random.Random(config.seed)
        self._background_alarms()

    # -- time ------------------------------------------------------------------------------
    def advance(self) -> None:
        """One NMS+ refresh: values move, expired faults end."""
        self.tick += 1
        self.tick_time = self.clock()
        for fault in [
            f
            for f in self.faults.values()
            if f.expires_at is not None and f.expires_at <= self.tick_time
        ]:
            self.clear_fault(fault.id)

    # -- values ----------------------------------------------------------------------------
    def value(self, card: SimCard, index: int) -> float:
        d = card.measures[index]
        t = self.tick * self.config.update_interval_seconds
        v = d.base + card.offsets[index]
        v += 0.1 * d.spread * math.sin(2 * math.pi * t / (7 * DAY) + card.index)  # slow drift
        if d.kind == "temperature":
            v += 3.0 * math.sin(2 * math.pi * (t / DAY + card.index / 97))  # daily cycle
        v += d.noise * _noise(card.index, index, self.tick)
        for fault in self._card_faults(card.uid):
            v = self._apply(fault, d.kind, v)
        if d.kind == "ber":
            v = max(v, 1e-9)
        return v

    def _apply(self, fault: Fault, kind: str, v: float) -> float:
        if fault.type == "pump_degradation" and kind == "pump":
            ramp = fault.number("ramp_seconds", 0.0)
            share = 1.0 if ramp <= 0 else min(1.0, (self.clock() - fault.created_at) / ramp)
            return v + (fault.number("target_dbm", 8.0) - v) * share
        if fault.type == "osnr_drop" and kind == "osnr":
            return v - fault.number("drop_db", 8.0)
        if fault.type == "fibre_cut" and kind == "input":
            return v - fault.number("loss_db", 6.0)
        return v

    def card_is_up(self, card: SimCard) -> bool:
        return not any(f.type == "card_down" for f in self._card_faults(card.uid))

    def card_status_time(self, card: SimCard) -> float:
        return self.status_changed_at.get(card.uid, self.started_at)

    def _card_faults(self, uid: str) -> Iterator[Fault]:
        for fault in self.faults.values():
            if fault.params.get("card_uid") == uid:
                yield fault

    def active_fault(self, kind: str) -> Fault | None:
        for fault in self.faults.values():
            if fault.type == kind:
                return fault
        return None

    # -- faults ----------------------------------------------------------------------------
    def add_fault(self, raw: Any) -> Fault:
        params = validate(raw)
        kind = params.pop("type")
        self._check_target(kind, params)
        self._fault_seq += 1
        now = self.clock()
        duration = params.get("duration_seconds")
        fault = Fault(
            id=f"f{self._fault_seq}",
            type=kind,
            params=params,
            created_at=now,
            expires_at=None if duration is None else now + float(duration),
        )
        self.faults[fault.id] = fault
        self._on_fault_added(fault)
        return fault

    def _check_target(self, kind: str, params: dict[str, Any]) -> None:
        uid = params.get("card_uid")
        if uid is not None and kind != "card_added" and uid not in self.by_uid:
            raise FaultError(f"{kind}: no card {uid!r} in the simulated network")
        if uid is None:
            return
        kinds = {d.kind for d in self.by_uid[uid].measures}
        needed = {"pump_degradation": "pump", "osnr_drop": "osnr", "fibre_cut": "input"}
        if kind in needed and needed[kind] not in kinds:
            raise FaultError(f"{kind}: card {uid} has no {needed[kind]} measure")
        if kind == "card_added" and params.get("card_model", "TM1200G-SA") not in MODELS:
            raise FaultError(f"card_added: unknown card_model {params.get('card_model')!r}")

    def _on_fault_added(self, fault: Fault) -> None:
        uid = fault.params.get("card_uid")
        if fault.type == "card_added":
            self._add_card(fault)
        elif fault.type == "card_removed" and uid:
            self._remove_card(uid)
        elif fault.type == "card_down" and uid:
            self.status_changed_at[uid] = self.clock()
            self._raise(fault, "Falha de placa (card down)", "FAIL", "CRITICAL")
        elif fault.type == "pump_degradation" and uid:
            target = fault.number("target_dbm", 8.0)
            if not PUMP_RANGE[0] <= target <= PUMP_RANGE[1]:
                self._raise(fault, "Pump power out of range", "THRESHOLD", "CRITICAL", "Pump")
        elif fault.type == "osnr_drop" and uid:
            self._raise(fault, "OSNR below the minimum threshold", "THRESHOLD", "MAJOR", "Line 1")
        elif fault.type == "fibre_cut" and uid:
            self._raise(fault, "Perda de sinal (LOS)", "LOS", "CRITICAL", "IN Line")

    def clear_fault(self, fault_id: str) -> bool:
        fault = self.faults.pop(fault_id, None)
        if fault is None:
            return False
        now = self.clock()
        for alarm in self.alarms:
            if alarm.fault_id == fault_id and alarm.active:
                alarm.end = now
        uid = fault.params.get("card_uid")
        if fault.type == "card_down" and uid:
            self.status_changed_at[uid] = now
        # card_added / card_removed change the inventory for good: clearing only forgets them.
        return True

    def clear_all(self) -> None:
        for fault_id in list(self.faults):
            self.clear_fault(fault_id)

    def _add_card(self, fault: Fault) -> None:
        site = str(fault.params["site"])
        provider = next((c.data_provider for c in self.cards if c.site == site), "172.30.9.1")
        card = self._factory.make(
            site, provider, model=str(fault.params.get("card_model", "TM1200G-SA"))
        )
        self.cards.append(card)
        self.by_uid[card.uid] = card
        fault.result["card_uid_added"] = card.uid
        self.version += 1

    def _remove_card(self, uid: str) -> None:
        card = self.by_uid.pop(uid)
        self.cards.remove(card)
        now = self.clock()
        for alarm in self.alarms:
            if alarm.card is card and alarm.active:
                alarm.end = now
        self.version += 1

    # -- alarms ----------------------------------------------------------------------------
    def _raise(
        self,
        fault: Fault | None,
        name: str,
        group: str,
        severity: str,
        port: str | None = None,
        card: SimCard | None = None,
        start: float | None = None,
    ) -> SimAlarm:
        self._oid += 1
        if card is not None:
            target = card
        elif fault is not None:
            target = self.by_uid[str(fault.params["card_uid"])]
        else:
            raise ValueError("an alarm needs a card or a fault naming one")
        alarm = SimAlarm(
            oid=self._oid,
            card=target,
            name=name,
            group=group,
            severity=severity,
            resource="",
            port=port,
            start=start or self.clock(),
            fault_id=fault.id if fault else None,
        )
        self.alarms.append(alarm)
        return alarm

    def _background_alarms(self) -> None:
        """Standing low-severity alarms and some history, as a real network always has."""
        choices = [
            ("Temperatura elevada", "TEMPERATURE", "WARNING", None),
            ("Pin below the minimum threshold", "THRESHOLD", "MINOR", "IN Line"),
            ("LOS Sync (Client 1)", "LOS Sync", "MINOR", "Client 1"),
        ]
        for card in self.cards[3::7]:
            name, group, severity, port = self.rng.choice(choices)
            start = self.started_at - self.rng.uniform(3600, 30 * DAY)
            alarm = self._raise(None, name, group, severity, port, card=card, start=start)
            if self.rng.random() < 0.4:
                alarm.end = start + self.rng.uniform(60, 3600)  # history row
            elif self.rng.random() < 0.5:
                alarm.ack = start + self.rng.uniform(60, 7200)

    def live_alarms(self) -> list[SimAlarm]:
        """Alarms of cards still in the network, active and history."""
        return [a for a in self.alarms if a.card.uid in self.by_uid]

    # -- truth -----------------------------------------------------------------------------
    def truth(self) -> dict[str, Any]:
        return {
            "cards": len(self.cards),
            "sites": sorted({c.site for c in self.cards}),
            "measures": sum(len(c.measures) for c in self.cards),
            "active_alarms": sum(1 for a in self.live_alarms() if a.active),
            "card_uids": [c.uid for c in self.cards],
            "faults": [f.describe() for f in self.faults.values()],
            "tick": self.tick,
        }
