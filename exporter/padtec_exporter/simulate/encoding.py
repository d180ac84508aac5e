"""Rows in the JSON shapes of the two API builds.

Measure rows are the bulk (500k at benchmark scale), so they are assembled from pre-encoded
pieces: per card (its identity, its status), per measure kind (name, group, port, key) and per
update (value, timestamp). Card and alarm rows are few and go through msgspec as dicts.

Shapes (../shared/padtec-api.md):
- "2025-12" measure rows: the Dec 2025 capture, field for field and in its order.
- "2025-02" measure rows: locationCollector, lowercase cardFamily, the timestamp named
  ``update``, no measureKey/measureSubKey/cardIsUp/cardUpdate.
- Card and alarm rows: the Feb 2025 manual's samples (uppercase family, ``updatedAt``,
  locationCollector null) in both builds; no other shape of them has been seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from padtec_exporter.simulate.alarms import Alarm
from padtec_exporter.simulate.catalog import MeasureKind
from padtec_exporter.simulate.network import Card

_json = msgspec.json.encode


class Timestamps:
    """``YYYY-MM-DD HH:MM:SS`` with no zone, in the configured zone (as the NMS sends)."""

    def __init__(self, timezone: str) -> None:
        self._zone = ZoneInfo(timezone)
        self._cache: dict[int, str] = {}

    def text(self, when: float | None) -> str | None:
        if when is None:
            return None
        second = int(when)
        found = self._cache.get(second)
        if found is None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            found = datetime.fromtimestamp(second, self._zone).strftime("%Y-%m-%d %H:%M:%S")
            self._cache[second] = found
        return found


@dataclass(frozen=True, slots=True)
class KindPieces:
    uid_tail: bytes  # b'-7260-0"' closes the measureUid string
    before_value: bytes  # measureName ... up to the opening quote of measureValue
    value_format: bytes  # b"%.3f", or b"%.3E" for a BER
    before_stamp: bytes  # closes measureValue, port, opens the timestamp
    end: bytes  # closes the timestamp (and adds measureKey/measureSubKey) and the row


class MeasureEncoder:
    """Pre-encoded pieces of measure rows for one API build."""

    def __init__(self, build: str, card_is_up_on_healthy: bool = False) -> None:
        self.old_build = build == "2025-02"
        # False: every row says cardIsUp false, up or down, as the Dec 2025 capture shows.
        self.healthy_up = card_is_up_on_healthy
        self._kinds: dict[int, tuple[tuple[MeasureKind, ...], list[KindPieces]]] = {}
        self._cards: dict[int, tuple[int, bytes, bytes]] = {}

    def kind_pieces(self, measures: tuple[MeasureKind, ...]) -> list[KindPieces]:
        # Cards of one model share one tuple (CardFactory), so this is a lookup by identity.
        found = self._kinds.get(id(measures))
        if found is None or found[0] is not measures:
            found = (measures, [self._kind(kind) for kind in measures])
            self._kinds[id(measures)] = found
        return found[1]

    def _kind(self, kind: MeasureKind) -> KindPieces:
        value_format = b"%.3E" if kind.role == "ber" else b"%.3f"
        before_value = (
            b',"measureName":'
            + _json(kind.name)
            + b',"measureResource":null,"measureGroup":'
            + _json(kind.group)
            + b',"measureValue":"'
        )
        stamp_name = b"update" if self.old_build else b"updatedAt"
        before_stamp = b'","port":' + _json(kind.port) + b',"' + stamp_name + b'":"'
        if self.old_build:
            end = b'"}'
        else:
            end = b'","measureKey":%d,"measureSubKey":%d}' % (kind.key, kind.subkey)
        return KindPieces(
            uid_tail=b'-%d-%d"' % (kind.key, kind.subkey),
            before_value=before_value,
            value_format=value_format,
            before_stamp=before_stamp,
            end=end,
        )

    def card_pieces(self, card: Card, status_time: str | None) -> tuple[bytes, bytes]:
        """(row start up to the open measureUid string, card part after measureUid)."""
        found = self._cards.get(card.number)
        if found is not None and found[0] == card.status_version:
            return found[1], found[2]
        uid_open = _json(card.uid)[:-1]  # the measureUid string goes on with "-KEY-SUBKEY"
        if self.old_build:
            head = (
                b'{"locationDataprovider":'
                + _json(card.data_provider)
                + b',"locationCollector":null,"locationSite":'
                + _json(card.site)
                + b',"cardUid":'
                + _json(card.uid)
                + b',"cardModel":'
                + _json(card.model.name)
                + b',"cardFamily":'
                + _json(card.model.family.lower())
                + b',"cardPart":%d,"cardSerial":%d,"measureUid":' % (card.model.part, card.serial)
                + uid_open
            )
            after_uid = b""
        else:
            head = (
                b'{"cardPart":%d,"cardSerial":%d,"measureUid":' % (card.model.part, card.serial)
                + uid_open
            )
            after_uid = (
                b',"locationDataprovider":'
                + _json(card.data_provider)
                + b',"locationSite":'
                + _json(card.site)
                + b',"cardUid":'
                + _json(card.uid)
                + b',"cardModel":'
                + _json(card.model.name)
                + b',"cardFamily":'
                + _json(card.model.family)
                + b',"cardIsUp":'
                + (b"true" if card.up and self.healthy_up else b"false")
                + b',"cardUpdate":'
                + _json(status_time)
            )
        self._cards[card.number] = (card.status_version, head, after_uid)
        return head, after_uid

    def forget(self, keep: set[int]) -> None:
        """Drop cached pieces of cards no longer in the network."""
        for number in [n for n in self._cards if n not in keep]:
            del self._cards[number]


def format_values(pieces: list[KindPieces], values: list[float]) -> list[bytes]:
    return [p.value_format % v for p, v in zip(pieces, values, strict=True)]


def measure_rows(
    head: bytes,
    after_uid: bytes,
    pieces: list[KindPieces],
    texts: list[bytes],
    stamp: bytes,
    indices: range | tuple[int, ...],
) -> list[bytes]:
    """The encoded rows of one card's measures at ``indices``."""
    join = b"".join
    return [
        join(
            (
                head,
                pieces[i].uid_tail,
                after_uid,
                pieces[i].before_value,
                texts[i],
                pieces[i].before_stamp,
                stamp,
                pieces[i].end,
            )
        )
        for i in indices
    ]


def card_row(card: Card, updated: str | None, with_is_active: bool) -> dict[str, Any]:
    row: dict[str, Any] = {
        "locationDataprovider": card.data_provider,
        "locationCollector": None,
        "locationSite": card.site,
        "cardUid": card.uid,
        "cardName": card.uid,
        "cardModel": card.model.name,
        "cardFamily": card.model.family,
        "cardPart": card.model.part,
        "cardSerial": card.serial,
        "cardFirmwareVersion": card.firmware,
    }
    if with_is_active:
        row["cardIsActive"] = card.up
    row["updatedAt"] = updated
    return row


def alarm_row(alarm: Alarm, stamps: Timestamps, updated: str | None) -> dict[str, Any]:
    card = alarm.card
    return {
        "locationDataprovider": card.data_provider,
        "locationCollector": None,
        "locationSite": card.site,
        "cardUid": card.uid,
        "cardModel": card.model.name,
        "cardFamily": card.model.family,
        "cardPart": card.model.part,
        "cardSerial": card.serial,
        "alarmOid": alarm.oid,
        "alarmName": alarm.kind.name,
        "alarmGroup": alarm.kind.group,
        "alarmResource": alarm.kind.resource,
        "alarmSeverity": alarm.kind.severity,
        "alarmIsActive": alarm.active,
        "alarmIsInstant": False,
        "alarmStartDate": stamps.text(alarm.start),
        "alarmEndDate": stamps.text(alarm.end),
        "alarmAckDate": stamps.text(alarm.ack),
        "port": alarm.kind.port,
        "updatedAt": updated,
    }
