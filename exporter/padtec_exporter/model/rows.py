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
