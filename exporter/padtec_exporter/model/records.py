"""Typed records the rest of the exporter works with, after validation.

msgspec Structs with ``gc=False``: half a million of them live at once, and the cyclic garbage
collector would otherwise walk them all on every full collection (they hold only scalars, so
they can never be part of a reference cycle).
"""

from __future__ import annotations

import msgspec

from padtec_exporter.model.rows import TypicalMeasure


class Card(msgspec.Struct, frozen=True, gc=False):
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


class Measure(msgspec.Struct, frozen=True, gc=False):
    uid: str
    card_uid: str
    site: str
    name: str
    key: str
    subkey: str
    port: str
    group: str
    # Metric family suffix (e.g. "power_dbm"); the value in that family's unit is `value`.
    family: str
    updated_at: float | None
    card_is_up: bool | None
    card_status_at: float | None
    # The exposition line (model/lines.py): the series, shared by every record of it, and the
    # sample, the value's text and newline.
    series: bytes
    sample: bytes
    # The factor from the NMS's unit to the family's, and the row as the decoder compared it
    # (model/decode.py): a later equal row reuses this record as it is.
    scale: float = 1.0
    raw: TypicalMeasure | None = None

    @property
    def value(self) -> float:
        """The value in the family's unit, read from the sample's text (no float is kept per
        record: half a million of them would cost 16 MB)."""
        return float(self.sample)


class Alarm(msgspec.Struct, frozen=True, gc=False):
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
