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
    # When each measure was fetched (collector clock): decides which of two tiers is fresher.
    fetched_at: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    alarms: tuple[Alarm, ...] = ()
    inventory_ok: bool = False
