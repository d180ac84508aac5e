"""Fault objects of the control API and scenarios (docs/architecture.md "Simulator control API").

Each fault type is a msgspec Struct tagged by ``type``: a fault object with an unknown type, a
missing parameter, a wrong type or an unknown key is refused with a message naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec

from padtec_exporter.configfile import Strict

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
Positive = Annotated[float, msgspec.Meta(gt=0)]
Probability = Annotated[float, msgspec.Meta(ge=0, le=1)]


class FaultError(ValueError):
    """A fault object cannot be applied; the message says why (answered as HTTP 400)."""


class FaultSpec(Strict, tag_field="type"):
    duration_seconds: NonNegative | None = None  # forever when absent


class CardFault(FaultSpec, kw_only=True):
    card_uid: str


class PumpDegradation(CardFault, tag="pump_degradation", kw_only=True):
    target_dbm: float = 8.0
    ramp_seconds: NonNegative = 0.0


class CardDown(CardFault, tag="card_down", kw_only=True):
    pass


class OsnrDrop(CardFault, tag="osnr_drop", kw_only=True):
    drop_db: NonNegative = 8.0


class FibreCut(CardFault, tag="fibre_cut", kw_only=True):
    loss_db: NonNegative = 6.0


class CardAdded(FaultSpec, tag="card_added", kw_only=True):
    site: str
    card_model: str = "TM1200G-SA"
    # The card's measures are served at once, its inventory row only this much later (a card
    # installed between two inventory runs of the exporter).
    inventory_delay_seconds: NonNegative = 0.0


class CardRemoved(CardFault, tag="card_removed", kw_only=True):
    pass


class Outage(FaultSpec, tag="outage", kw_only=True):
    mode: Literal["5xx", "hang"] = "5xx"


class Slow(FaultSpec, tag="slow", kw_only=True):
    delay_seconds: NonNegative = 2.0


class TokenExpiry(FaultSpec, tag="token_expiry", kw_only=True):
    every_seconds: Positive = 10.0


class RateLimit(FaultSpec, tag="rate_limit", kw_only=True):
    probability: Probability = 1.0
    retry_after_seconds: NonNegative = 1.0


class MissingRows(FaultSpec, tag="missing_rows", kw_only=True):
    """The state view serves ``rows`` fewer rows (the last ones in row order) while its
    ``*/count`` still counts them: a sweep that cannot be complete."""

    view: Literal["measures", "inventory", "alarms"] = "measures"
    rows: Annotated[int, msgspec.Meta(ge=1)] = 1


class Malformed(FaultSpec, tag="malformed", kw_only=True):
    probability: Probability = 1.0
    mode: Literal["truncated", "html", "wrong_shape", "bad_rows"] = "truncated"


AnyFault = (
    PumpDegradation
    | CardDown
    | OsnrDrop
    | FibreCut
    | CardAdded
    | CardRemoved
    | Outage
    | Slow
    | TokenExpiry
    | RateLimit
    | MissingRows
    | Malformed
)
FAULT_TYPES: tuple[str, ...] = tuple(
    str(kind.__struct_config__.tag)
    for kind in (
        PumpDegradation,
        CardDown,
        OsnrDrop,
        FibreCut,
        CardAdded,
        CardRemoved,
        Outage,
        Slow,
        TokenExpiry,
        RateLimit,
        MissingRows,
        Malformed,
    )
)


def parse_fault(raw: Any) -> AnyFault:
    """A fault object (decoded JSON or YAML) → its typed spec, or FaultError saying why not."""
    if not isinstance(raw, dict):
        raise FaultError("a fault is a JSON object with a 'type'")
    kind = raw.get("type")
    if kind not in FAULT_TYPES:
        raise FaultError(f"unknown fault type {kind!r}; expected one of {', '.join(FAULT_TYPES)}")
    try:
        spec: AnyFault = msgspec.convert(raw, AnyFault)
    except msgspec.ValidationError as exc:
        raise FaultError(f"{kind}: {_readable(str(exc))}") from exc
    return spec


def _readable(message: str) -> str:
    # msgspec: "Expected `float`, got `str` - at `$.target_dbm`" → "'target_dbm': Expected ..."
    if " - at `$." in message:
        what, where = message.split(" - at `$.", 1)
        return f"'{where.rstrip('`')}': {what}"
    return message


@dataclass
class ActiveFault:
    id: str
    spec: AnyFault
    created_at: float  # wall clock
    expires_at: float | None
    # What applying it did, shown with the fault: e.g. the uid of the card a card_added made.
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def card_uid(self) -> str | None:
        if isinstance(self.spec, CardFault):
            return self.spec.card_uid
        uid = self.result.get("card_uid")
        return uid if isinstance(uid, str) else None

    def describe(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"id": self.id, **msgspec.to_builtins(self.spec)}
        doc.update(self.result)
        doc["created_at"] = self.created_at
        doc["expires_at"] = self.expires_at
        return doc
