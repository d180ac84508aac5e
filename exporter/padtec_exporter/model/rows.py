"""Raw row shapes as the NMS sends them (both API builds), with lenient field types.

Types are unions so that a number sent as a string (or the reverse) still decodes; fields the
exporter does not use are ignored. A field holding an object or array fails the fast path and
sends the page through the per-row path (decode.py), which drops only that row.
"""

from __future__ import annotations

import msgspec

Scalar = str | int | float | bool | None


class RawCard(msgspec.Struct, gc=False):
    cardUid: Scalar = None
    cardName: Scalar = None
    cardModel: Scalar = None
    cardFamily: Scalar = None
    cardPart: Scalar = None
    cardSerial: Scalar = None
    cardFirmwareVersion: Scalar = None
    cardIsActive: Scalar = None
    locationSite: Scalar = None
    locationDataprovider: Scalar = None
    updatedAt: Scalar = None
    update: Scalar = None


class RawMeasure(msgspec.Struct, gc=False):
    measureUid: Scalar = None
    cardUid: Scalar = None
    cardFamily: Scalar = None
    # The card's own fields, for cards the inventory does not know yet.
    cardModel: Scalar = None
    cardPart: Scalar = None
    cardSerial: Scalar = None
    locationDataprovider: Scalar = None
    cardIsUp: Scalar = None
    cardUpdate: Scalar = None
    locationSite: Scalar = None
    measureName: Scalar = None
    measureGroup: Scalar = None
    measureValue: Scalar = None
    measureKey: Scalar = None
    measureSubKey: Scalar = None
    port: Scalar = None
    updatedAt: Scalar = None
    update: Scalar = None


class RawAlarm(msgspec.Struct, gc=False):
    alarmOid: Scalar = None
    cardUid: Scalar = None
    locationSite: Scalar = None
    alarmName: Scalar = None
    alarmGroup: Scalar = None
    alarmResource: Scalar = None
    alarmSeverity: Scalar = None
    alarmIsActive: Scalar = None
    alarmStartDate: Scalar = None
    port: Scalar = None


class TypicalMeasure(msgspec.Struct, gc=False):
    """A measure row in the field types the NMS is seen to send (the Dec 2025 capture), and
    only the fields a known series needs: the fast path (decode.py).

    Each field admits types that never compare equal to one another, so a row equal to the
    previous row of its series (as a tuple, ``msgspec.structs.astuple``) is sure to decode to
    the same record. A page with any other type fails validation and takes the lenient
    RawMeasure path. The field order is the tuple's: uid, then what changes between polls
    (value, timestamps, card status), then the series' identity.
    """

    measureUid: str | None = None
    measureValue: str | None = None
    updatedAt: str | None = None
    update: str | None = None
    cardIsUp: bool | str | None = None
    cardUpdate: str | None = None
    cardUid: str | None = None
    cardFamily: str | None = None
    locationSite: str | None = None
    measureName: str | None = None
    measureGroup: str | None = None
    measureKey: int | str | None = None
    measureSubKey: int | str | None = None
    port: str | None = None
