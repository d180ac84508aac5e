"""What one NMS looks like after the latest runs: replaced, never mutated, once published.

The renderer reads an NmsData from a worker thread while the collector builds the next one, so
every published mapping is a fresh object that nobody changes afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from padtec_exporter.model import Alarm, Card, Measure


@dataclass(frozen=True, slots=True)
class NmsData:
    name: str
    cards: Mapping[str, Card] = field(default_factory=lambda: MappingProxyType({}))
    measures: Mapping[str, Measure] = field(default_factory=lambda: MappingProxyType({}))
    alarms: tuple[Alarm, ...] = ()
    inventory_ok: bool = False
    # Cards whose measures came before their inventory row: described by the measure rows.
    cards_from_measures: Mapping[str, Card] = field(default_factory=lambda: MappingProxyType({}))
    # Seconds to subtract from record timestamps to get Unix time: the NMS's UTC offset when
    # it was worked out from its replies (records then hold local time read as UTC), else 0.
    clock_shift_seconds: float = 0.0
