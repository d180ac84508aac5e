"""Fault objects accepted by the control API and scenarios, validated into typed faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FAULT_TYPES = (
    "pump_degradation",
    "card_down",
    "osnr_drop",
    "fibre_cut",
    "card_added",
    "card_removed",
    "outage",
    "slow",
    "token_expiry",
    "rate_limit",
    "malformed",
)
MALFORMED_MODES = ("truncated", "html", "wrong_shape", "bad_rows")


class FaultError(ValueError):
    """The fault object is not valid; the message says why (answered as HTTP 400)."""


@dataclass
class Fault:
    id: str
    type: str
    params: dict[str, Any]
    created_at: float
    expires_at: float | None = None
    # Filled when applied: e.g. the card a card_added fault created.
    result: dict[str, Any] = field(default_factory=dict)

    def number(self, key: str, default: float) -> float:
        return float(self.params.get(key, default))

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            **self.params,
            **self.result,
            "expires_at": self.expires_at,
        }


_NEEDS_CARD = {"pump_degradation", "card_down", "osnr_drop", "fibre_cut", "card_removed"}
_NUMBERS = {
    "target_dbm",
    "ramp_seconds",
    "drop_db",
    "loss_db",
    "delay_seconds",
    "every_seconds",
    "probability",
    "retry_after_seconds",
    "duration_seconds",
}


def validate(raw: Any) -> dict[str, Any]:
    """Check a fault object's shape and values (the card's existence is checked by the caller)."""
    if not isinstance(raw, dict):
        raise FaultError("a fault is a JSON object with a 'type'")
    kind = raw.get("type")
    if kind not in FAULT_TYPES:
        raise FaultError(f"unknown fault type {kind!r}; expected one of {', '.join(FAULT_TYPES)}")
    params = {k: v for k, v in raw.items() if k != "type"}
    for key in _NUMBERS & params.keys():
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise FaultError(f"{kind}: '{key}' must be a non-negative number")
    if kind in _NEEDS_CARD and not isinstance(params.get("card_uid"), str):
        raise FaultError(f"{kind}: 'card_uid' is required")
    if kind == "card_added" and not isinstance(params.get("site"), str):
        raise FaultError("card_added: 'site' is required")
    if kind == "outage" and params.setdefault("mode", "5xx") not in ("5xx", "hang"):
        raise FaultError("outage: 'mode' must be '5xx' or 'hang'")
    if kind == "malformed" and params.setdefault("mode", "truncated") not in MALFORMED_MODES:
        raise FaultError(f"malformed: 'mode' must be one of {', '.join(MALFORMED_MODES)}")
    if kind in ("rate_limit", "malformed") and not 0 <= float(params.get("probability", 1)) <= 1:
        raise FaultError(f"{kind}: 'probability' must be between 0 and 1")
    return {"type": kind, **params}
