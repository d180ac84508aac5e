"""Decode one page of an NMS state view into typed records.

A page that is not a JSON array is a malformed reply (the client retries it). A row that cannot
be used is dropped and counted by reason; the rest of the page is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, TypeVar

import msgspec

from padtec_exporter.model import lines, values
from padtec_exporter.model.records import Alarm, Card, Measure
from padtec_exporter.model.rows import RawAlarm, RawCard, RawMeasure, Scalar, TypicalMeasure
from padtec_exporter.model.units import UnitResolver
from padtec_exporter.model.values import TimestampParser, ValueRejected, parse_bool, text

R = TypeVar("R", RawCard, RawMeasure, RawAlarm)

# (resource, reason) → called once per dropped row or value.
InvalidCounter = Callable[[str, str], None]


# Bounds against hostile input (uids or label values that change on every poll): past them the
# cache is dropped and rebuilt, which costs time, never correctness.
MAX_KNOWN_SERIES = 2_000_000
MAX_POOLED_STRINGS = 250_000


class MalformedPage(ValueError):
    """The body is not a JSON array of objects at all."""


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
        self._typical = msgspec.json.Decoder(list[TypicalMeasure])
        # Per uid: the latest record of the series; its `raw` is the row it was decoded from.
        self._series: dict[str, Measure] = {}
        # Per first uid of a page: the series of its rows, in order, when it came last (tuples:
        # the garbage collector stops scanning them, it would walk lists on every collection).
        self._pages: dict[str, tuple[Measure | None, ...]] = {}
        self._pages_seen: set[str] = set()  # first uids of the pages since the last retain()
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
            # Pages must not keep the forgotten series alive either (rare: series left).
            for first, page in self._pages.items():
                self._pages[first] = tuple(
                    m if m is not None and m.uid in uids else None for m in page
                )
        if len(self._measure_cards) > len(card_uids):
            cards = self._measure_cards
            self._measure_cards = {uid: cards[uid] for uid in card_uids if uid in cards}
        if len(self._pages) > len(self._pages_seen):
            pages = self._pages
            self._pages = {first: pages[first] for first in self._pages_seen if first in pages}
        self._pages_seen = set()

    def card_from_measures(self, card_uid: str) -> Card | None:
        """The card as its measure rows describe it (model, part, serial, site, provider)."""
        return self._measure_cards.get(card_uid)

    # -- pages ---------------------------------------------------------------------------
    def cards(self, body: bytes) -> tuple[list[Card], int]:
        rows = self._rows(body, RawCard, "inventory")
        return _keep(self._card(row) for row in rows), len(rows)

    def measures(self, body: bytes) -> tuple[list[Measure], int]:
        if len(self._strings) + len(self._ints) >= MAX_POOLED_STRINGS:
            # Checked per page, not per string: the pools are on the hot path.
            self._strings.clear()
            self._ints.clear()
        if len(self._series) >= MAX_KNOWN_SERIES:
            self._series.clear()
            self._pages.clear()
        try:
            typical: list[TypicalMeasure] = self._typical.decode(body)
        except msgspec.ValidationError:
            pass  # a field of another type or shape: the lenient path below
        except msgspec.DecodeError as exc:
            raise MalformedPage(f"not valid JSON: {exc}") from exc
        else:
            return self._typical_measures(typical, body), len(typical)
        rows = self._rows(body, RawMeasure, "measures")
        kept: list[Measure] = _keep(self._decode_measure(row) for row in rows if row is not None)
        for measure in kept:
            if measure.card_uid not in self._measure_cards:
                self._measure_cards[measure.card_uid] = self._card_of(rows, measure.card_uid)
        return kept, len(rows)

    def _typical_measures(self, rows: list[TypicalMeasure], body: bytes) -> list[Measure]:
        """The hottest loop of the exporter (every row of every page): each row is compared
        whole with the row its series' record was decoded from (one struct comparison).

        A page usually holds the same series in the same order as the last page that began
        with the same uid, so each row is first compared with the record at its position
        there (no hash of its uid, no dict probe); the uid lookup is the fallback. A record
        found by position may be older than the dict's for its uid: equal rows decode equally,
        and a changed value is derived from any record of the same identity alike.
        """
        kept: list[Measure] = []
        keep = kept.append
        first = rows[0].measureUid if rows else None
        previous = self._pages.get(first) if first is not None else None
        if previous is None or len(previous) != len(rows):
            previous = (None,) * len(rows)
        now: list[Measure | None] = []
        remember = now.append
        known_series = self._series.get
        new_cards: set[str] = set()
        for row, known in zip(rows, previous, strict=True):
            if known is None or known.raw != row:
                if known is None or known.uid != row.measureUid:  # another series here
                    known = known_series(row.measureUid)  # type: ignore[arg-type]
                if known is None or known.raw != row:
                    measure = self._changed_measure(row, known)
                    # The series' record from now on (one with `raw` is the dict's), or None.
                    remember(measure if measure is not None and measure.raw else None)
                    if measure is not None:
                        keep(measure)
                        if measure.card_uid not in self._measure_cards:
                            new_cards.add(measure.card_uid)
                    continue
            remember(known)
            keep(known)
            if known.updated_at is None and (row.updatedAt is not None or row.update is not None):
                # An unreadable timestamp is counted on every poll, as a new row's would be.
                self._on_invalid("measures", values.BAD_TIMESTAMP)
        if first is not None:
            self._pages[first] = tuple(now)
            self._pages_seen.add(first)
        if new_cards:
            self._describe_cards(new_cards, body)
        return kept

    def _changed_measure(self, row: TypicalMeasure, known: Measure | None) -> Measure | None:
        """A typical row that differs from its series' previous one. When only the value or
        timestamps changed (the NMS refreshes every 30 s: most rows of a full sweep), the new
        record is derived from the previous one, sharing its series bytes, label strings and
        any timestamp that did not change; else the row is decoded the long way."""
        old = None if known is None else known.raw
        if known is None or old is None or not _same_series(row, old):
            return self._decode_measure(row)
        text = row.measureValue
        try:
            value = float(text)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return self._decode_measure(row)  # the long way reads or counts it
        # What parse_number refuses beyond float(): digit separators, inf/nan, sentinels.
        if "_" in text or value - value != 0.0 or value in self._sentinels:  # type: ignore[operator]
            return self._decode_measure(row)
        scale = known.scale
        if scale != 1.0:
            value *= scale
        pool = self._strings.setdefault
        updated, update, card_update = row.updatedAt, row.update, row.cardUpdate
        if updated == old.updatedAt and update == old.update:
            updated, update, updated_at = old.updatedAt, old.update, known.updated_at
        else:
            stamp = updated if updated is not None else update
            updated_at = self._timestamp(stamp)
            if updated_at is None and stamp is not None:
                self._on_invalid("measures", values.BAD_TIMESTAMP)
            updated = None if updated is None else pool(updated, updated)
            update = None if update is None else pool(update, update)
        if card_update == old.cardUpdate:
            card_update, status_at = old.cardUpdate, known.card_status_at
        else:
            status_at = self._timestamp(card_update)
            if card_update is not None:
                card_update = pool(card_update, card_update)
        is_up = row.cardIsUp
        measure = Measure(
            known.uid,
            known.card_uid,
            known.site,
            known.name,
            known.key,
            known.subkey,
            known.port,
            known.group,
            known.family,
            updated_at,
            known.card_is_up if is_up == old.cardIsUp else parse_bool(is_up),
            status_at,
            known.series,
            lines.sample(value, text, scale),
            scale,
            TypicalMeasure(
                old.measureUid,
                text,
                updated,
                update,
                is_up,
                card_update,
                old.cardUid,
                old.cardFamily,
                old.locationSite,
                old.measureName,
                old.measureGroup,
                old.measureKey,
                old.measureSubKey,
                old.port,
            ),
        )
        self._series[known.uid] = measure
        return measure

    def _describe_cards(self, card_uids: set[str], body: bytes) -> None:
        """Card fields for cards seen for the first time: typical rows do not carry them, so
        such a page (one of the first sweep) is decoded once more with every field. A row
        whose card fields are unusable describes nothing, and is not dropped for that."""
        rows = self._rows(body, RawMeasure, "measures", count_invalid=False)
        for card_uid in card_uids:
            self._measure_cards[card_uid] = self._card_of(rows, card_uid)

    def alarms(self, body: bytes) -> tuple[list[Alarm], int]:
        rows = self._rows(body, RawAlarm, "alarms")
        return _keep(self._alarm(row) for row in rows), len(rows)

    def _rows(
        self, body: bytes, kind: type[R], resource: str, count_invalid: bool = True
    ) -> list[R | None]:
        try:
            rows: list[R | None] = self._fast[kind].decode(body)
            return rows
        except msgspec.ValidationError:
            pass  # some row has a field of the wrong shape: go row by row below
        except msgspec.DecodeError as exc:
            raise MalformedPage(f"not valid JSON: {exc}") from exc
        return self._rows_one_by_one(body, kind, resource, count_invalid)

    def _rows_one_by_one(
        self, body: bytes, kind: type[R], resource: str, count_invalid: bool
    ) -> list[R | None]:
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
                if count_invalid:
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

    def _decode_measure(self, row: RawMeasure | TypicalMeasure) -> Measure | None:
        """The long way: every field checked and converted; a typical row's series is then
        remembered for the next poll."""
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
        site, card_uid, port = pool(site, site), pool(card_uid, card_uid), pool(port, port)
        key_text, subkey_text = pool(key_text, key_text), pool(subkey_text, subkey_text)
        value = value * scale if scale != 1.0 else value
        series = lines.measure_series(
            family,
            site=site,
            card_uid=card_uid,
            name=name,
            key=key_text,
            subkey=subkey_text,
            port=port,
            group=group,
        )
        measure = Measure(
            uid=uid,
            card_uid=card_uid,
            site=site,
            name=name,
            key=key_text,
            subkey=subkey_text,
            port=port,
            group=group,
            family=family,
            updated_at=updated_at,
            card_is_up=parse_bool(row.cardIsUp),
            card_status_at=self._timestamp(row.cardUpdate),
            series=series,
            sample=lines.sample(value, row.measureValue, scale),
            scale=scale,
        )
        if isinstance(row, TypicalMeasure) and row.measureUid is not None:
            measure = self._remember(row, measure)
        return measure

    def _card_of(self, rows: list[RawMeasure | None], card_uid: str) -> Card:
        """The card as the first of ``rows`` naming it describes it."""
        row = next((r for r in rows if r is not None and text(r.cardUid) == card_uid), RawMeasure())
        return Card(
            uid=card_uid,
            site=text(row.locationSite),
            model=text(row.cardModel),
            family=text(row.cardFamily).upper(),
            part=text(row.cardPart),
            serial=text(row.cardSerial),
            name=card_uid,
            data_provider=text(row.locationDataprovider),
            firmware="",  # not in measure rows
            is_active=None,
            updated_at=None,
        )

    def _remember(self, row: TypicalMeasure, measure: Measure) -> Measure:
        """The record with the row it came from, kept as its series' latest. The row kept
        holds the pooled strings (those the record holds where equal), so few are copies."""
        pool = self._strings.setdefault

        def pooled(field: str | None) -> str | None:
            return None if field is None else pool(field, field)

        kept = TypicalMeasure(
            measure.uid,
            row.measureValue,
            pooled(row.updatedAt),
            pooled(row.update),
            row.cardIsUp if not isinstance(row.cardIsUp, str) else pool(row.cardIsUp, row.cardIsUp),
            pooled(row.cardUpdate),
            pooled(row.cardUid),
            pooled(row.cardFamily),
            pooled(row.locationSite),
            pooled(row.measureName),
            pooled(row.measureGroup),
            self._pooled_int(row.measureKey),  # type: ignore[arg-type]
            self._pooled_int(row.measureSubKey),  # type: ignore[arg-type]
            pooled(row.port),
        )
        measure = msgspec.structs.replace(measure, raw=kept)
        self._series[measure.uid] = measure
        return measure

    def _pooled_int(self, value: Scalar) -> Scalar:
        if value.__class__ is int:
            assert isinstance(value, int)  # for mypy
            return self._ints.setdefault(value, value)
        return value

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


def _same_series(row: TypicalMeasure, old: TypicalMeasure) -> bool:
    """Whether the fields naming the series (and deciding its family and labels) are equal."""
    return (
        row.cardUid == old.cardUid
        and row.measureKey == old.measureKey
        and row.measureSubKey == old.measureSubKey
        and row.measureName == old.measureName
        and row.locationSite == old.locationSite
        and row.port == old.port
        and row.measureGroup == old.measureGroup
        and row.cardFamily == old.cardFamily
    )
