"""The collection tiers: one table, like node_exporter's registerCollector or blackbox's
Probers. Config defaults and validation, the collector, the demo, doctor and the docs (checked
by tests/docs) all read it; adding a tier is one entry here.

A tier sweeps one NMS view (``endpoint``) with its filter sets on its own schedule. A full
sweep (``full``) replaces what the tier saw before and is cross-checked against the view's
``*/count`` when its filters are the view's full ones; a partial tier (critical) only adds
fresher values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

INVENTORY, MEASURES, ALARMS = "inventory/state", "measures/state", "alarm/state"


@dataclass(frozen=True)
class Tier:
    name: str  # the config key under collect: and the `tier` label of padtec_collection_*
    endpoint: str  # what it collects: the NMS view it sweeps
    interval_seconds: float  # default interval
    full: bool  # a full sweep of its view (see the module docstring)
    what: str  # one line for the docs
    filters: tuple[Mapping[str, str], ...] = field(default=({},))  # default filter sets


TIERS: tuple[Tier, ...] = (
    Tier("inventory", INVENTORY, 3600.0, True, "`inventory/state`, all pages"),
    Tier(
        "critical",
        MEASURES,
        30.0,
        False,
        "`measures/state` filtered by `measureGroup=POWER` and `measureGroup=OSNR`",
        filters=({"measureGroup": "POWER"}, {"measureGroup": "OSNR"}),
    ),
    Tier("all_measures", MEASURES, 300.0, True, "`measures/state`, no filter (all measures)"),
    Tier(
        "alarms",
        ALARMS,
        60.0,
        True,
        "`alarm/state?alarmIsActive=true`",
        filters=({"alarmIsActive": "true"},),
    ),
)
BY_NAME: Mapping[str, Tier] = MappingProxyType({tier.name: tier for tier in TIERS})
NAMES: tuple[str, ...] = tuple(BY_NAME)
# Old names still accepted in config (CHANGELOG: `normal` was the full measures sweep).
ALIASES: Mapping[str, str] = MappingProxyType({"normal": "all_measures"})


def canonical(name: str) -> str:
    """The tier's name, also when given by an accepted alias."""
    return ALIASES.get(name, name)
