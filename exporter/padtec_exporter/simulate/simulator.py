"""The simulated NMS: the network, its values at the current update, faults and alarms.

Faults act at once (as if the NMS+ refreshed right then) and values move every update. What a
fault does to the data, as a real network would show it:

- pump_degradation: Pump Power (key 7260) goes to ``target_dbm`` over ``ramp_seconds``; a
  THRESHOLD alarm is active while the value is outside [12, 24] dBm.
- card_down: ``cardIsUp`` false, ``cardUpdate`` moves, a CRITICAL FAIL alarm.
- fibre_cut: the card's input power (IN Line IN Power / Rx Power Line 1) drops by ``loss_db``;
  a LOS alarm.
- osnr_drop: OSNR drops by ``drop_db``; a THRESHOLD alarm while it is below 15 dB.
- card_added / card_removed: the inventory changes; clearing the fault undoes it. A card added
  with ``inventory_delay_seconds`` serves its measures at once and its inventory row later.
- missing_rows: a state view serves fewer rows than its ``*/count`` says (views.py).

Clearing a fault restores healthy values and ends its alarms (they become history rows).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from padtec_exporter.simulate.alarms import (
    CARD_FAIL,
    OSNR_LOW,
    PUMP_OUT_OF_RANGE,
    AlarmBook,
    add_background_alarms,
    loss_of_signal,
)
from padtec_exporter.simulate.catalog import MODELS
from padtec_exporter.simulate.config import SimulatorConfig
from padtec_exporter.simulate.dynamics import Dynamics
from padtec_exporter.simulate.faults import (
    ActiveFault,
    AnyFault,
    CardAdded,
    CardDown,
    CardFault,
    CardRemoved,
    FaultError,
    FibreCut,
    MissingRows,
    OsnrDrop,
    PumpDegradation,
    parse_fault,
)
from padtec_exporter.simulate.network import Card, Network, generate

PUMP_RANGE_DBM = (12.0, 24.0)
OSNR_MIN_DB = 15.0
_NEEDED_ROLE = {PumpDegradation: "pump", OsnrDrop: "osnr", FibreCut: "input"}
F = TypeVar("F")


class Simulator:
    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.started_at = clock()
        self.network: Network = generate(
            config.seed, config.sites, config.cards_per_site, config.extra_measures_per_card
        )
        self.dynamics = Dynamics(config.seed, config.update_interval_seconds)
        self.alarms = AlarmBook()
        add_background_alarms(self.alarms, self.network.cards, config.seed, self.started_at)
        self.faults: dict[str, ActiveFault] = {}
        self._fault_count = 0
        self.tick = 0  # updates so far
        self.tick_time = self.started_at  # wall clock of the last update (updatedAt)
        self._changes = 0  # fault and inventory changes (part of data_version)
        self._removed: dict[str, Card] = {}  # by fault id, to put cards back
        # Added cards whose inventory row is not served yet: uid -> wall clock it will be.
        self._inventory_pending: dict[str, float] = {}

    # -- versions ---------------------------------------------------------------------------
    @property
    def data_version(self) -> tuple[int, ...]:
        """Changes whenever any API answer may change (pages are cached under it)."""
        return (self.tick, self._changes, self.network.version, self.alarms.version)

    # -- updates ----------------------------------------------------------------------------
    def advance(self) -> None:
        """One NMS+ refresh: values move, updatedAt moves, faults past their time end."""
        self.expire_faults()
        self.tick += 1
        self.tick_time = self.clock()
        self._evaluate_threshold_alarms()

    def expire_faults(self) -> None:
        now = self.clock()
        for fault in list(self.faults.values()):
            if fault.expires_at is not None and fault.expires_at <= now:
                self.clear_fault(fault.id, when=fault.expires_at)
        due = [uid for uid, at in self._inventory_pending.items() if at <= now]
        for uid in due:
            del self._inventory_pending[uid]
        if due:
            self._changes += 1  # the inventory answers change

    def in_inventory(self, card: Card) -> bool:
        """False for an added card whose inventory row is still delayed."""
        return card.uid not in self._inventory_pending

    def missing_rows(self, view: str) -> int:
        """How many rows (the last ones) the state view leaves out while counting them."""
        return sum(
            f.spec.rows
            for f in self.faults.values()
            if isinstance(f.spec, MissingRows) and f.spec.view == view
        )

    # -- values -----------------------------------------------------------------------------
    def values(self, card: Card) -> list[float]:
        """The card's measures at the current update, faults applied (index-aligned)."""
        values = self.dynamics.healthy_values(card, self.tick)
        for fault in self._faults_on(card.uid):
            self._apply(fault, card, values)
        return values

    def _apply(self, fault: ActiveFault, card: Card, values: list[float]) -> None:
        spec = fault.spec
        for index, kind in enumerate(card.measures):
            if isinstance(spec, PumpDegradation) and kind.role == "pump":
                values[index] += (spec.target_dbm - values[index]) * self._ramp_share(fault)
            elif isinstance(spec, OsnrDrop) and kind.role == "osnr":
                values[index] -= spec.drop_db
            elif isinstance(spec, FibreCut) and kind.role == "input":
                values[index] -= spec.loss_db

    def _ramp_share(self, fault: ActiveFault) -> float:
        assert isinstance(fault.spec, PumpDegradation)
        ramp = fault.spec.ramp_seconds
        if ramp <= 0:
            return 1.0
        # Progress is read at the last update: the value moves in update steps, like the rest.
        return min(1.0, max(0.0, (self.tick_time - fault.created_at) / ramp))

    def _faults_on(self, uid: str) -> list[ActiveFault]:
        return [f for f in self.faults.values() if f.card_uid == uid]

    def transport_fault(self, kind: type[F]) -> F | None:
        """The newest active fault of a transport kind (outage, slow, rate_limit, ...)."""
        found: F | None = None
        for fault in self.faults.values():
            if isinstance(fault.spec, kind):
                found = fault.spec
        return found

    # -- faults -----------------------------------------------------------------------------
    def add_fault(self, raw: Any) -> ActiveFault:
        """Validate and apply a fault object; FaultError (→ HTTP 400) when it cannot be."""
        self.expire_faults()
        spec = parse_fault(raw)
        self._check_target(spec)
        self._fault_count += 1
        now = self.clock()
        duration = spec.duration_seconds
        fault = ActiveFault(
            id=f"f{self._fault_count}",
            spec=spec,
            created_at=now,
            expires_at=None if duration is None else now + duration,
        )
        self.faults[fault.id] = fault
        self._changes += 1
        self._on_added(fault, now)
        return fault

    def _check_target(self, spec: AnyFault) -> None:
        if isinstance(spec, CardAdded):
            if spec.card_model not in MODELS:
                known = ", ".join(MODELS)
                raise FaultError(
                    f"card_added: unknown card_model {spec.card_model!r}; expected one of {known}"
                )
            return
        if not isinstance(spec, CardFault):
            return
        card = self.network.get(spec.card_uid)
        if card is None:
            raise FaultError(f"{_tag(spec)}: no card {spec.card_uid!r} in the simulated network")
        role = _NEEDED_ROLE.get(type(spec))
        if role is not None and all(kind.role != role for kind in card.measures):
            raise FaultError(
                f"{_tag(spec)}: card {spec.card_uid!r} ({card.model.name}) has no {role} measure"
            )

    def _on_added(self, fault: ActiveFault, now: float) -> None:
        spec = fault.spec
        if isinstance(spec, CardAdded):
            network = self.network
            card = network.factory.make(
                MODELS[spec.card_model], spec.site, network.provider_for(spec.site)
            )
            network.add(card)
            fault.result["card_uid"] = card.uid
            if spec.inventory_delay_seconds > 0:
                self._inventory_pending[card.uid] = now + spec.inventory_delay_seconds
        elif isinstance(spec, CardRemoved):
            removed = self.network.remove(spec.card_uid)
            if removed is not None:
                self._removed[fault.id] = removed
                self.alarms.end_for_card(removed, now)
        elif isinstance(spec, CardDown):
            card = self._card(spec.card_uid)
            self._set_status(card, up=False, when=now)
            self.alarms.raise_alarm(card, CARD_FAIL, now, cause=fault.id)
        elif isinstance(spec, FibreCut):
            card = self._card(spec.card_uid)
            port = next(k.port for k in card.measures if k.role == "input")
            self.alarms.raise_alarm(card, loss_of_signal(port), now, cause=fault.id)
        self._evaluate_threshold_alarms()

    def clear_fault(self, fault_id: str, when: float | None = None) -> bool:
        """End a fault: healthy values, its alarms become history, inventory changes undone."""
        fault = self.faults.pop(fault_id, None)
        if fault is None:
            return False
        now = self.clock() if when is None else when
        self._changes += 1
        self.alarms.end_caused_by(fault.id, now)
        spec = fault.spec
        if isinstance(spec, CardDown):
            card = self.network.get(spec.card_uid)
            if card is not None and not any(
                isinstance(f.spec, CardDown) for f in self._faults_on(card.uid)
            ):
                self._set_status(card, up=True, when=now)
        elif isinstance(spec, CardAdded) and fault.card_uid is not None:
            self._inventory_pending.pop(fault.card_uid, None)
            added = self.network.remove(fault.card_uid)
            if added is not None:
                self.alarms.end_for_card(added, now)
        elif isinstance(spec, CardRemoved) and fault_id in self._removed:
            self.network.add(self._removed.pop(fault_id))
        return True

    def clear_all(self) -> None:
        # Newest first, so a card added and then removed comes back before it goes again.
        for fault_id in reversed(list(self.faults)):
            self.clear_fault(fault_id)

    def _card(self, uid: str) -> Card:
        card = self.network.get(uid)
        if card is None:  # _check_target ran just before
            raise FaultError(f"no card {uid!r} in the simulated network")
        return card

    @staticmethod
    def _set_status(card: Card, *, up: bool, when: float) -> None:
        card.up = up
        card.status_changed_at = when
        card.status_version += 1

    def card_status_time(self, card: Card) -> float:
        """cardUpdate: the last status change, or hours before start (it lags on a real NMS)."""
        if card.status_changed_at is not None:
            return card.status_changed_at
        return self.started_at - card.status_lag

    # -- threshold alarms -------------------------------------------------------------------
    def _evaluate_threshold_alarms(self) -> None:
        """Alarms that follow a value: raised while it is beyond the threshold, ended after."""
        for fault in list(self.faults.values()):
            spec = fault.spec
            if not isinstance(spec, PumpDegradation | OsnrDrop):
                continue
            card = self.network.get(spec.card_uid)
            if card is None:
                continue
            role, kind = ("pump", PUMP_OUT_OF_RANGE)
            if isinstance(spec, OsnrDrop):
                role, kind = ("osnr", OSNR_LOW)
            values = self.values(card)
            beyond = any(
                _beyond(role, value)
                for measure, value in zip(card.measures, values, strict=True)
                if measure.role == role
            )
            alarm = self.alarms.find_active(card, kind, fault.id)
            if beyond and alarm is None:
                self.alarms.raise_alarm(card, kind, self.clock(), cause=fault.id)
            elif not beyond and alarm is not None:
                self.alarms.end(alarm, self.clock())

    # -- truth ------------------------------------------------------------------------------
    def truth(self) -> dict[str, Any]:
        """What the simulated network is now (tests compare the exporter against it)."""
        self.expire_faults()
        cards = self.network.cards
        return {
            "cards": len(cards),
            "sites": self.network.sites(),
            "measures": self.network.measure_count(),
            "active_alarms": len(self.alarms.active()),
            "card_uids": [card.uid for card in cards],
            "faults": [fault.describe() for fault in self.faults.values()],
            "tick": self.tick,
        }


def _beyond(role: str, value: float) -> bool:
    if role == "pump":
        return not PUMP_RANGE_DBM[0] <= value <= PUMP_RANGE_DBM[1]
    return value < OSNR_MIN_DB


def _tag(spec: AnyFault) -> str:
    return str(type(spec).__struct_config__.tag)
