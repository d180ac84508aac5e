"""Typed records the rest of the exporter works with, after validation."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Card:
    uid: str
    site: str
    model: str
    family: str
    part: str
    serial: str
    name: str
    data_provider: str
    firmware: str
    # `cardIsActive` of the inventory row, when the NMS build sends it.
    is_active: bool | None
    updated_at: float | None


@dataclass(frozen=True, slots=True)
class Measure:
    uid: str
    card_uid: str
    site: str
    name: str
    key: str
    subkey: str
    port: str
    group: str
    # Metric family suffix (e.g. "power_dbm") and the value already in that family's unit.
    family: str
    value: float
    updated_at: float | None
    card_is_up: bool | None
    card_status_at: float | None


@dataclass(frozen=True, slots=True)
class Alarm:
    oid: str
    card_uid: str
    site: str
    name: str
    group: str
    severity: str
    resource: str
    port: str
    is_active: bool
    started_at: float | None
