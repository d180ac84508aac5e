"""Row decoding and normalisation: NMS JSON pages in, typed records out. Pure, no I/O."""

from padtec_exporter.model.decode import (
    InvalidCounter,
    MalformedPage,
    RowDecoder,
)
from padtec_exporter.model.records import Alarm, Card, Measure
from padtec_exporter.model.units import UnitResolver, UnitRule, builtin_rules

__all__ = [
    "Alarm",
    "Card",
    "InvalidCounter",
    "MalformedPage",
    "Measure",
    "RowDecoder",
    "UnitResolver",
    "UnitRule",
    "builtin_rules",
]
