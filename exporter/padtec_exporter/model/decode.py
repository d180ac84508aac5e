"""Decode one page of an NMS state view into typed records.

A page that is not a JSON array is a malformed reply (the client retries it). A row that cannot
be used is dropped and counted by reason; the rest of the page is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

import msgspec

from padtec_exporter.model import values
from padtec_exporter.model.records import Alarm, Card, Measure
from padtec_exporter.model.rows import RawAlarm, RawCard, RawMeasure, Scalar
from padtec_exporter.model.units import UnitResolver
from padtec_exporter.model.values import TimestampParser, ValueRejected, parse_bool, text

R = TypeVar("R", RawCard, RawMeasure, RawAlarm)

# (resource, reason) → called once per dropped row or value.
InvalidCounter = Callable[[str, str], None]


# Bounds against hostile input (uids or label values that change on every poll): past them the
# cache is dropped and rebuilt, which costs time, never correctness.
MAX_KNOWN_SERIES = 2_000_000
MAX_POOLED_STRINGS = 250_000

# Raw field types whose equality (==) implies equal decoded results: 1 == True == 1.0 but
# parse_bool and text() tell them apart, so only these are compared for reuse.
_LABEL_TYPES = (str, type(None))
_FLAG_TYPES = frozenset((bool, str, type(None)))


class MalformedPage(ValueError):
    """The body is not a JSON array of objects at all."""


class _Series(msgspec.Struct, gc=False):
    """What the decoder last made of one measure uid.

    The same series comes back on every poll with the same labels: when the identity fields of
    a row equal ``ident``, only the value and timestamps need decoding; when the volatile
    fields equal too, the previous record is reused as it is (also shared with the renderer's
    cache and the previous publication, so unchanged series cost no new memory).
    """

    ident: tuple[Scalar, ...]
    volatile: tuple[Scalar, ...]
    measure: Measure
    scale: float


class RowDecoder:
    """Decodes pages of one NMS (its time zone, unit rules and sentinels)."""

    def __init__(
        self,
        units: UnitResolver,
        timezone: str | None = "UTC",
        on_invalid: InvalidCounter | None = None,
        sentinels: frozenset[float] = frozenset(),
    ) -> None:
        self._units = units
        # No zone: timestamps are read as UTC ("wall seconds") and shifted by the NMS clock
        # offset when exposed (nms/clock.py), which is only known after the first sweep.
        self._timestamp = TimestampParser(timezone or "UTC")
        self._on_invalid = on_invalid or (lambda resource, reason: None)
        self._sentinels = sentinels
        self._fast: dict[type, msgspec.json.Decoder[Any]] = {
            RawCard: msgspec.json.Decoder(list[RawCard]),
            RawMeasure: msgspec.json.Decoder(list[RawMeasure]),
            RawAlarm: msgspec.json.Decoder(list[RawAlarm]),
        }
        self._series: dict[str, _Series] = {}
        # One instance per distinct label value: 500k records would otherwise hold 500k copies
        # of each site, card uid, measure name, port and group.
        self._strings: dict[str, str] = {}
        self._ints: dict[int, int] = {}  # measure keys: ints above 256 are new objects each
        # The card fields every measure row carries, per card uid: a card the inventory does
        # not know yet is exposed from them rather than dropped.
        self._measure_cards: dict[str, Card] = {}

    def retain(self, uids: Collection[str], card_uids: Collection[str] = ()) -> None:
        """Forget the series not in ``uids`` (those of the last full sweep) and the card
        fields of cards not in ``card_uids``."""
        if len(self._series) > len(uids):
            known = self._series
            self._series = {uid: known[uid] for uid in uids if uid in known}
        if len(self._measure_cards) > len(card_uids):
            cards = self._measure_cards
            self._measure_cards = {uid: cards[uid] for uid in card_uids if uid in cards}

    def card_from_measures(self, card_uid: str) -> Card | None:
        """The card as its measure rows describe it (model, part, serial, site, provider)."""
        return self._measure_cards.get(card_uid)

    # -- pages ---------------------------------------------------------------------------
    def cards(self, body: bytes) -> tuple[list[Card], int]:
        rows = self._rows(body, RawCard, "inventory")
        return _keep(self._card(row) for row in rows), len(rows)

    def measures(self, body: bytes) -> tuple[list[Measure], int]:
        rows = self._rows(body, RawMeasure, "measures")
        if len(self._strings) + len(self._ints) >= MAX_POOLED_STRINGS:
            # Checked per page, not per string: the pools are on the hot path.
            self._strings.clear()
            self._ints.clear()
        if len(self._series) >= MAX_KNOWN_SERIES:
            self._series.clear()
        # The hottest loop of the exporter (every row of every page): one pass, locals only.
        kept: list[Measure] = []
        keep = kept.append
        known_series = self._series.get
        known_measure, decode_measure = self._known_measure, self._decode_measure
        for row in rows:
            if row is None:
                continue
            raw_uid = row.measureUid
            measure: Measure | None = None
            if raw_uid.__class__ is str:
                assert isinstance(raw_uid, str)  # for mypy: the class check is the fast one
                known = known_series(raw_uid)
                if known is not None:
                    # Inlined: most rows repeat their series' last row field for field (the
                    # NMS refreshes its values every 30 s, the full sweep runs every 5 min).
                    # Compared field by field, no tuple built; _known_measure has the rules.
                    last = known.volatile
                    if (
                        row.measureValue == last[0]
                        and row.updatedAt == last[1]
                        and row.update == last[2]
                        and row.cardUpdate == last[4]
                        and row.cardIsUp == last[3]
                        and row.cardIsUp.__class__ in _FLAG_TYPES
                        and row.measureValue.__class__ is str
                        and row.measureKey.__class__ is not bool
                        and row.measureSubKey.__class__ is not bool
                        and (
                            row.cardUid,
                            row.cardFamily,
                            row.locationSite,
                            row.measureName,
                            row.measureGroup,
                            row.measureKey,
                            row.measureSubKey,
                            row.port,
                        )
                        == known.ident
                    ):
                        measure = known.measure
                        if measure.updated_at is None and (
                            row.updatedAt is not None or row.update is not None
                        ):
                            self._on_invalid("measures", values.BAD_TIMESTAMP)
                    else:
                        measure = known_measure(row, known)
                if measure is None:
                    measure = decode_measure(row, raw_uid)
            else:
                measure = decode_measure(row, None)
            if measure is not None:
                keep(measure)
        return kept, len(rows)

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

    def _known_measure(self, row: RawMeasure, known: _Series) -> Measure | None:
        """The record for a row of a known series, or None to decode it the long way."""
        key, subkey = row.measureKey, row.measureSubKey
        ident = (
            row.cardUid,
            row.cardFamily,
            row.locationSite,
            row.measureName,
            row.measureGroup,
            key,
            subkey,
            row.port,
        )
        if ident != known.ident or key.__class__ is bool or subkey.__class__ is bool:
            return None
        raw_value, is_up = row.measureValue, row.cardIsUp
        volatile = (raw_value, row.updatedAt, row.update, is_up, row.cardUpdate)
        if is_up.__class__ not in _FLAG_TYPES or raw_value.__class__ is not str:
            return None  # rare shapes: the long way counts and converts them
        if volatile == known.volatile:
            measure = known.measure
        else:
            try:
                value = values.parse_number(raw_value, self._sentinels)
            except ValueRejected:
                return None  # the long way counts it
            scale = known.scale
            measure = msgspec.structs.replace(
                known.measure,
                value=value * scale if scale != 1.0 else value,
                updated_at=self._timestamp(
                    row.updatedAt if row.updatedAt is not None else row.update
                ),
                card_is_up=parse_bool(is_up),
                card_status_at=self._timestamp(row.cardUpdate),
            )
            known.volatile = self._pooled_volatile(volatile)
            known.measure = measure
        if measure.updated_at is None and (row.updatedAt is not None or row.update is not None):
            self._on_invalid("measures", values.BAD_TIMESTAMP)
        return measure

    def _decode_measure(self, row: RawMeasure, cache_as: str | None) -> Measure | None:
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
        pool = self._strings.setdefault  # (s, s) → the first instance of s
        name = text(row.measureName)
        name = pool(name, name)
        group = text(row.measureGroup)
        group = pool(group, group)
        family, scale = self._units.resolve(key, name, group, text(row.cardFamily))
        stamp = row.updatedAt if row.updatedAt is not None else row.update
        updated_at = self._timestamp(stamp)
        if updated_at is None and stamp is not None:
            self._on_invalid("measures", values.BAD_TIMESTAMP)
        site, port = text(row.locationSite), text(row.port)
        key_text = "" if key is None else str(key)
        subkey_text = "" if subkey is None else str(subkey)
        measure = Measure(
            uid=uid,
            card_uid=pool(card_uid, card_uid),
            site=pool(site, site),
            name=name,
            key=pool(key_text, key_text),
            subkey=pool(subkey_text, subkey_text),
            port=pool(port, port),
            group=group,
            family=family,
            value=value * scale if scale != 1.0 else value,
            updated_at=updated_at,
            card_is_up=parse_bool(row.cardIsUp),
            card_status_at=self._timestamp(row.cardUpdate),
        )
        if cache_as is not None and _cacheable(row):
            self._remember(cache_as, row, measure, scale)
        if measure.card_uid not in self._measure_cards:
            self._measure_cards[measure.card_uid] = self._card_of(row, measure)
        return measure

    def _card_of(self, row: RawMeasure, measure: Measure) -> Card:
        return Card(
            uid=measure.card_uid,
            site=measure.site,
            model=text(row.cardModel),
            family=text(row.cardFamily).upper(),
            part=text(row.cardPart),
            serial=text(row.cardSerial),
            name=measure.card_uid,
            data_provider=text(row.locationDataprovider),
            firmware="",  # not in measure rows
            is_active=None,
            updated_at=None,
        )

    def _remember(self, uid: str, row: RawMeasure, measure: Measure, scale: float) -> None:
        # The label strings of the ident are the pooled ones the record holds, so the cache
        # keeps no copies of its own.
        family = row.cardFamily
        ident = (
            measure.card_uid if row.cardUid is not None else None,
            self._strings.setdefault(family, family) if isinstance(family, str) else family,
            measure.site if row.locationSite is not None else None,
            measure.name if row.measureName is not None else None,
            measure.group if row.measureGroup is not None else None,
            self._pooled_int(row.measureKey),
            self._pooled_int(row.measureSubKey),
            measure.port if row.port is not None else None,
        )
        volatile = (row.measureValue, row.updatedAt, row.update, row.cardIsUp, row.cardUpdate)
        self._series[uid] = _Series(ident, self._pooled_volatile(volatile), measure, scale)

    def _pooled_int(self, value: Scalar) -> Scalar:
        if value.__class__ is int:
            assert isinstance(value, int)  # for mypy
            return self._ints.setdefault(value, value)
        return value

    def _pooled_volatile(self, volatile: tuple[Scalar, ...]) -> tuple[Scalar, ...]:
        # Timestamps repeat across thousands of rows: keep one instance of each.
        value, updated_at, update, is_up, card_update = volatile
        pool = self._strings.setdefault
        return (
            value,
            pool(updated_at, updated_at) if isinstance(updated_at, str) else updated_at,
            pool(update, update) if isinstance(update, str) else update,
            is_up,
            pool(card_update, card_update) if isinstance(card_update, str) else card_update,
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


def _cacheable(row: RawMeasure) -> bool:
    """Whether equal fields of a later row are sure to decode to the same record (see
    _LABEL_TYPES); anything else is decoded the long way every time."""
    return (
        isinstance(row.cardUid, _LABEL_TYPES)
        and isinstance(row.cardFamily, _LABEL_TYPES)
        and isinstance(row.locationSite, _LABEL_TYPES)
        and isinstance(row.measureName, _LABEL_TYPES)
        and isinstance(row.measureGroup, _LABEL_TYPES)
        and isinstance(row.port, _LABEL_TYPES)
        and not isinstance(row.measureKey, bool)
        and not isinstance(row.measureSubKey, bool)
        and row.measureValue.__class__ is str
        and row.cardIsUp.__class__ in _FLAG_TYPES
    )


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
