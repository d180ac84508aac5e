"""Decode one page of an NMS state view into typed records.

A page that is not a JSON array is a malformed reply (the client retries it). A row that cannot
be used is dropped and counted by reason; the rest of the page is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from padtec_exporter.model import values
from padtec_exporter.model.records import Alarm, Card, Measure
from padtec_exporter.model.rows import RawAlarm, RawCard, RawMeasure
from padtec_exporter.model.units import UnitResolver
from padtec_exporter.model.values import TimestampParser, ValueRejected, parse_bool, text

R = TypeVar("R", RawCard, RawMeasure, RawAlarm)

# (resource, reason) → called once per dropped row or value.
InvalidCounter = Callable[[str, str], None]


class MalformedPage(ValueError):
    """The body is not a JSON array of objects at all."""


class RowDecoder:
    """Decodes pages of one NMS (its time zone, unit rules and sentinels)."""

    def __init__(
        self,
        units: UnitResolver,
        timezone: str = "UTC",
        on_invalid: InvalidCounter | None = None,
        sentinels: frozenset[float] = frozenset(),
    ) -> None:
        self._units = units
        self._timestamp = TimestampParser(timezone)
        self._on_invalid = on_invalid or (lambda resource, reason: None)
        self._sentinels = sentinels
        self._fast: dict[type, msgspec.json.Decoder[Any]] = {
            RawCard: msgspec.json.Decoder(list[RawCard]),
            RawMeasure: msgspec.json.Decoder(list[RawMeasure]),
            RawAlarm: msgspec.json.Decoder(list[RawAlarm]),
        }

    # -- pages ---------------------------------------------------------------------------
    def cards(self, body: bytes) -> tuple[list[Card], int]:
        rows = self._rows(body, RawCard, "inventory")
        return _keep(self._card(row) for row in rows), len(rows)

    def measures(self, body: bytes) -> tuple[list[Measure], int]:
        rows = self._rows(body, RawMeasure, "measures")
        return _keep(self._measure(row) for row in rows), len(rows)

    def alarms(self, body: bytes) -> tuple[list[Alarm], int]:
        rows = self._rows(body, RawAlarm, "alarms")
        return _keep(self._alarm(row) for row in rows), len(rows)

    def _rows(self, body: bytes, kind: type[R], resource: str) -> list[R | None]:
        try:
            rows: list[R | None] = self._fast[kind].decode(body)
            return rows
        except msgspec.ValidationError:
            pass  # some row has a field of the wrong shape: go row by row below
        except msgspec.DecodeError as exc:
            raise MalformedPage(f"not valid JSON: {exc}") from exc
        return self._rows_one_by_one(body, kind, resource)

    def _rows_one_by_one(self, body: bytes, kind: type[R], resource: str) -> list[R | None]:
        try:
            doc: Any = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:  # pragma: no cover - the fast path saw valid JSON
            raise MalformedPage(f"not valid JSON: {exc}") from exc
        if not isinstance(doc, list):
            raise MalformedPage(f"expected a JSON array, got {type(doc).__name__}")
        out: list[R | None] = []
        for item in doc:
            try:
                if not isinstance(item, dict):
                    raise msgspec.ValidationError("row is not an object")
                out.append(msgspec.convert(item, kind))
            except msgspec.ValidationError:
                self._on_invalid(resource, values.WRONG_TYPE)
                out.append(None)  # still counts towards the page's length
        return out

    # -- rows ----------------------------------------------------------------------------
    def _card(self, row: RawCard | None) -> Card | None:
        if row is None:
            return None
        model = text(row.cardModel)
        serial = text(row.cardSerial)
        uid = text(row.cardUid) or (f"{model}#{serial}" if model and serial else "")
        if not uid:
            self._on_invalid("inventory", values.MISSING_FIELD)
            return None
        return Card(
            uid=uid,
            site=text(row.locationSite),
            model=model,
            family=text(row.cardFamily).upper(),
            part=text(row.cardPart),
            serial=serial,
            name=text(row.cardName),
            data_provider=text(row.locationDataprovider),
            firmware=text(row.cardFirmwareVersion),
            is_active=parse_bool(row.cardIsActive),
            updated_at=self._timestamp(row.updatedAt if row.updatedAt is not None else row.update),
        )

    def _measure(self, row: RawMeasure | None) -> Measure | None:
        if row is None:
            return None
        card_uid = text(row.cardUid)
        uid = text(row.measureUid)
        key, subkey = _int(row.measureKey), _int(row.measureSubKey)
        if (key is None or subkey is None) and uid:
            key, subkey = _keys_from_uid(uid, key, subkey)
        if not uid and card_uid and key is not None and subkey is not None:
            uid = f"{card_uid}-{key}-{subkey}"
        if not uid or not card_uid:
            self._on_invalid("measures", values.MISSING_FIELD)
            return None
        try:
            value = values.parse_number(row.measureValue, self._sentinels)
        except ValueRejected as exc:
            self._on_invalid("measures", exc.reason)
            return None
        name = text(row.measureName)
        group = text(row.measureGroup)
        family, scale = self._units.resolve(key, name, group, text(row.cardFamily))
        stamp = row.updatedAt if row.updatedAt is not None else row.update
        updated_at = self._timestamp(stamp)
        if updated_at is None and stamp is not None:
            self._on_invalid("measures", values.BAD_TIMESTAMP)
        return Measure(
            uid=uid,
            card_uid=card_uid,
            site=text(row.locationSite),
            name=name,
            key="" if key is None else str(key),
            subkey="" if subkey is None else str(subkey),
            port=text(row.port),
            group=group,
            family=family,
            value=value * scale if scale != 1.0 else value,
            updated_at=updated_at,
            card_is_up=parse_bool(row.cardIsUp),
            card_status_at=self._timestamp(row.cardUpdate),
        )

    def _alarm(self, row: RawAlarm | None) -> Alarm | None:
        if row is None:
            return None
        card_uid = text(row.cardUid)
        name = text(row.alarmName)
        if not card_uid or not name:
            self._on_invalid("alarms", values.MISSING_FIELD)
            return None
        active = parse_bool(row.alarmIsActive)
        return Alarm(
            oid=text(row.alarmOid),
            card_uid=card_uid,
            site=text(row.locationSite),
            name=name,
            group=text(row.alarmGroup),
            severity=(text(row.alarmSeverity) or "UNKNOWN").upper(),
            resource=text(row.alarmResource),
            port=text(row.port),
            # An alarm row without the flag came from an `alarmIsActive=true` query or an old build.
            is_active=True if active is None else active,
            started_at=self._timestamp(row.alarmStartDate),
        )


T = TypeVar("T")


def _keep(items: Any) -> list[Any]:
    return [item for item in items if item is not None]


def _int(raw: object) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        stripped = raw.strip()
        magnitude = _digits(stripped.removeprefix("-"))
        return None if magnitude is None else (-magnitude if stripped[:1] == "-" else magnitude)
    return None


def _digits(text: str) -> int | None:
    """Plain ASCII digits as an int, else None: int() also takes "٣" and fails on "²" or on
    more than 4300 digits, and one such row must not fail its whole page."""
    if text.isascii() and text.isdigit() and len(text) <= 64:
        return int(text)
    return None


def _keys_from_uid(uid: str, key: int | None, subkey: int | None) -> tuple[int | None, int | None]:
    """``ROA1-HA-E29001-TR#374-7260-0`` → (7260, 0): older builds send no measureKey/SubKey."""
    parts = uid.rsplit("-", 2)
    if len(parts) == 3:
        tail_key, tail_subkey = _digits(parts[1]), _digits(parts[2])
        if tail_key is not None and tail_subkey is not None:
            return (
                key if key is not None else tail_key,
                subkey if subkey is not None else tail_subkey,
            )
    return key, subkey
