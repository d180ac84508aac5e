"""JSON rows and pages of the state views, in the shape of either NMS build, with filters.

Pages are built from compact card/measure definitions on request, so 500k measures cost no
500k dicts in memory; the static part of a filter is resolved once per inventory version.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from padtec_exporter.simulate.network import SimCard
from padtec_exporter.simulate.simulator import SimAlarm, Simulator

INVENTORY_FILTERS = {
    "cardFamily",
    "cardFirmwareVersion",
    "cardIsActive",
    "cardModel",
    "cardName",
    "cardPart",
    "cardSerial",
    "cardUid",
    "locationCollector",
    "locationDataprovider",
    "locationSite",
    "port",
}
MEASURE_FILTERS = {
    "cardFamily",
    "cardModel",
    "cardPart",
    "cardSerial",
    "cardUid",
    "locationCollector",
    "locationDataprovider",
    "locationSite",
    "measureGroup",
    "measureName",
    "measureResource",
    "measureUid",
    "measureValue",
    "port",
}
ALARM_FILTERS = {
    "alarmGroup",
    "alarmIsActive",
    "alarmName",
    "alarmOid",
    "alarmResource",
    "alarmSeverity",
    "cardFamily",
    "cardModel",
    "cardPart",
    "cardSerial",
    "cardUid",
    "locationCollector",
    "locationDataprovider",
    "locationSite",
    "port",
}

_encoder = msgspec.json.Encoder()


def _matches(row: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    """Exact match, case-insensitive (the real API's matching rules are not documented)."""
    for key, wanted in filters.items():
        got = row.get(key)
        text = "" if got is None else str(got).lower()  # True → "true", as in the query
        if text != wanted.lower():
            return False
    return True


class RowBuilder:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._zone = ZoneInfo(sim.config.timezone)
        self._old_build = sim.config.api_build == "2025-02"
        self._stamps: dict[float, str] = {}
        self._index: OrderedDict[tuple[Any, ...], list[tuple[SimCard, int]]] = OrderedDict()
        self.pages: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()

    def stamp(self, when: float | None) -> str | None:
        if when is None:
            return None
        found = self._stamps.get(when)
        if found is None:
            found = datetime.fromtimestamp(when, self._zone).strftime("%Y-%m-%d %H:%M:%S")
            if len(self._stamps) > 10_000:
                self._stamps.clear()
            self._stamps[when] = found
        return found

    def _family(self, card: SimCard) -> str:
        return card.family.lower() if self._old_build else card.family

    # -- rows ------------------------------------------------------------------------------
    def card_row(self, card: SimCard) -> dict[str, Any]:
        row: dict[str, Any] = {
            "locationDataprovider": card.data_provider,
            "locationCollector": None,
            "locationSite": card.site,
            "cardUid": card.uid,
            "cardName": card.uid,
            "cardModel": card.model,
            "cardFamily": self._family(card),
            "cardPart": card.part,
            "cardSerial": card.serial,
            "cardFirmwareVersion": card.firmware,
        }
        row["update" if self._old_build else "updatedAt"] = self.stamp(self.sim.started_at)
        return row

    def _measure_static(self, card: SimCard, index: int) -> dict[str, Any]:
        d = card.measures[index]
        return {
            "cardFamily": self._family(card),
            "cardModel": card.model,
            "cardPart": card.part,
            "cardSerial": card.serial,
            "cardUid": card.uid,
            "locationCollector": None,
            "locationDataprovider": card.data_provider,
            "locationSite": card.site,
            "measureGroup": d.group,
            "measureName": d.name,
            "measureResource": None,
            "measureUid": f"{card.uid}-{d.key}-{d.subkey}",
            "port": d.port,
        }

    def measure_row(self, card: SimCard, index: int) -> dict[str, Any]:
        d = card.measures[index]
        value = self.sim.value(card, index)
        # The NMS sends 3 decimals; a BER needs an exponent to say anything (assumed format).
        text = f"{value:.3e}" if d.kind == "ber" else f"{value:.3f}"
        uid = f"{card.uid}-{d.key}-{d.subkey}"
        if self._old_build:
            return {
                "locationDataprovider": card.data_provider,
                "locationCollector": None,
                "locationSite": card.site,
                "cardUid": card.uid,
                "cardModel": card.model,
                "cardFamily": card.family.lower(),
                "cardPart": card.part,
                "cardSerial": card.serial,
                "measureUid": uid,
                "measureName": d.name,
                "measureResource": None,
                "measureGroup": d.group,
                "measureValue": text,
                "port": d.port,
                "update": self.stamp(self.sim.tick_time),
            }
        return {
            "cardPart": card.part,
            "cardSerial": card.serial,
            "measureUid": uid,
            "locationDataprovider": card.data_provider,
            "locationSite": card.site,
            "cardUid": card.uid,
            "cardModel": card.model,
            "cardFamily": card.family,
            "cardIsUp": self.sim.card_is_up(card),
            "cardUpdate": self.stamp(self.sim.card_status_time(card)),
            "measureName": d.name,
            "measureResource": None,
            "measureGroup": d.group,
            "measureValue": text,
            "port": d.port,
            "updatedAt": self.stamp(self.sim.tick_time),
            "measureKey": d.key,
            "measureSubKey": d.subkey,
        }

    def alarm_row(self, alarm: SimAlarm) -> dict[str, Any]:
        card = alarm.card
        return {
            "locationDataprovider": card.data_provider,
            "locationCollector": None,
            "locationSite": card.site,
            "cardUid": card.uid,
            "cardModel": card.model,
            "cardFamily": self._family(card),
            "cardPart": card.part,
            "cardSerial": card.serial,
            "alarmOid": alarm.oid,
            "alarmName": alarm.name,
            "alarmGroup": alarm.group,
            "alarmResource": alarm.resource,
            "alarmSeverity": alarm.severity,
            "alarmIsActive": alarm.active,
            "alarmIsInstant": False,
            "alarmStartDate": self.stamp(alarm.start),
            "alarmEndDate": self.stamp(alarm.end),
            "alarmAckDate": self.stamp(alarm.ack),
            "port": alarm.port,
            "updatedAt": self.stamp(self.sim.tick_time),
        }

    # -- views -----------------------------------------------------------------------------
    def cards(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = (self.card_row(card) for card in self.sim.cards)
        return [row for row in rows if _matches(row, filters)] if filters else list(rows)

    def alarms(self, filters: Mapping[str, str]) -> list[dict[str, Any]]:
        rows = (self.alarm_row(alarm) for alarm in self.sim.live_alarms())
        return [row for row in rows if _matches(row, filters)] if filters else list(rows)

    def measure_index(self, filters: Mapping[str, str]) -> list[tuple[SimCard, int]]:
        static = {k: v for k, v in filters.items() if k != "measureValue"}
        key = (self.sim.version, tuple(sorted(static.items())))
        found = self._index.get(key)
        if found is None:
            found = [
                (card, i)
                for card in self.sim.cards
                for i in range(len(card.measures))
                if not static or _matches(self._measure_static(card, i), static)
            ]
            self._index[key] = found
            if len(self._index) > 32:
                self._index.popitem(last=False)
        return found

    def measures_page(self, filters: Mapping[str, str], page: int, size: int) -> bytes:
        key = (
            self.sim.version,
            self.sim.tick,
            tuple(sorted(filters.items())),
            page,
            size,
            tuple(sorted(self.sim.faults)),
        )
        cached = self.pages.get(key)
        if cached is not None:
            return cached
        index = self.measure_index(filters)
        if "measureValue" in filters:
            rows = [
                r
                for r in (self.measure_row(c, i) for c, i in index)
                if _matches(r, {"measureValue": filters["measureValue"]})
            ]
            rows = rows[page * size : (page + 1) * size]
        else:
            rows = [self.measure_row(c, i) for c, i in index[page * size : (page + 1) * size]]
        body = _encoder.encode(rows)
        self.pages[key] = body
        if len(self.pages) > 64:
            self.pages.popitem(last=False)
        return body

    def count_measures(self) -> int:
        return sum(len(card.measures) for card in self.sim.cards)
