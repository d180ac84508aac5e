"""The unit table: which metric family (and scale to its base unit) a measure belongs to.

The NMS sends no units. Rules match on measureKey, measureName (regex), measureGroup and card
family; the first rule whose every given field matches wins. User rules (config ``units:``) are
tried before the built-in ones, so a user can correct or extend the table without code changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from padtec_exporter.configfile import Invalid, Strict
from padtec_exporter.model.families import MEASURE_HELP
from padtec_exporter.model.families import UNKNOWN_FAMILY as UNKNOWN_FAMILY

_METRIC_SUFFIX = re.compile(r"^[a-z_][a-z0-9_]*$")


class UnitRule(Strict):
    """Maps measures to a metric family; the first rule whose every given field matches wins.

    ``name`` is a regular expression matched (case-insensitively) against measureName;
    ``group`` and ``card_family`` compare case-insensitively; ``key`` is measureKey.
    """

    family: str
    scale: float = 1.0
    key: int | None = None
    name: str | None = None
    group: str | None = None
    card_family: str | None = None

    def check(self) -> None:
        if not _METRIC_SUFFIX.match(self.family):
            raise Invalid("family", "expected a metric name suffix like 'power_dbm'")
        if self.name is not None:
            try:
                re.compile(self.name)
            except re.error as exc:
                raise Invalid("name", f"expected a regular expression ({exc})") from None


# Families and what they hold (the catalogue, model/families.py); the exposition's HELP text.
FAMILY_HELP: dict[str, str] = dict(MEASURE_HELP)


def builtin_rules() -> list[UnitRule]:
    """Keys seen in Smart API data, then assumed transponder keys, then name/group fallbacks."""
    milli = 0.001
    return [
        # Seen (padtec-api.md): amplifier keys.
        UnitRule(family="power_dbm", key=7260),  # Pump Power
        UnitRule(family="power_dbm", key=7704),  # Power Signal
        UnitRule(family="power_dbm", key=7255),  # IN Line IN Power
        UnitRule(family="power_dbm", key=7256),  # OUT Line Power
        UnitRule(family="current_amperes", key=7705, scale=milli),  # Laser Current 1
        UnitRule(family="current_amperes", key=7706, scale=milli),
        UnitRule(family="current_amperes", key=7707, scale=milli),
        UnitRule(family="power_watts", key=7273, scale=milli),  # Power Laser 2 (mW)
        UnitRule(family="power_watts", key=7275, scale=milli),  # Power Laser 3 (mW)
        UnitRule(family="voltage_volts", key=7288),  # TEC Voltage Laser 3
        UnitRule(family="current_amperes", key=7289, scale=milli),  # TEC Curr. Laser 3
        UnitRule(family="temperature_celsius", key=7261),  # Board Temperature
        UnitRule(family="gain_db", key=7265),  # Target Gain
        UnitRule(family="gain_db", key=7266),  # Target Gain Stage 2
        # Assumed transponder keys (never seen in Smart API data; the simulator uses them).
        UnitRule(family="power_dbm", key=8001),  # Rx Power
        UnitRule(family="power_dbm", key=8002),  # Tx Power
        UnitRule(family="osnr_db", key=8003),  # OSNR
        UnitRule(family="ber_ratio", key=8004),  # Pre-FEC BER
        # Fallbacks by name and group for keys not listed above.
        UnitRule(family="osnr_db", name=r"\bosnr\b"),
        UnitRule(family="ber_ratio", name=r"\bber\b"),
        UnitRule(family="temperature_celsius", name=r"temp"),
        UnitRule(family="gain_db", group="GAIN"),
        UnitRule(family="voltage_volts", group="VOLTS"),
        UnitRule(family="current_amperes", group="CURRENT", scale=milli),
        UnitRule(family="power_dbm", group="POWER", name=r"\b(in|out|rx|tx|input|output)\b"),
        UnitRule(family="power_dbm", name=r"^(pump )?power( signal)?$", group="POWER"),
    ]


@dataclass(frozen=True, slots=True)
class _Compiled:
    family: str
    scale: float
    key: int | None
    name: re.Pattern[str] | None
    group: str | None
    card_family: str | None

    def matches(self, key: int | None, name: str, group: str, card_family: str) -> bool:
        return (
            (self.key is None or self.key == key)
            and (self.group is None or self.group == group.upper())
            and (self.card_family is None or self.card_family == card_family.upper())
            and (self.name is None or self.name.search(name) is not None)
        )


class UnitResolver:
    """Resolves (key, name, group, card family) → (family, scale), memoised."""

    def __init__(self, user_rules: Sequence[UnitRule] = ()) -> None:
        self._rules = [_compile(rule) for rule in [*user_rules, *builtin_rules()]]
        self._cache: dict[tuple[int | None, str, str, str], tuple[str, float]] = {}

    @property
    def families(self) -> list[str]:
        names = dict.fromkeys(FAMILY_HELP)
        names.update(dict.fromkeys(rule.family for rule in self._rules))
        return list(names)

    def resolve(
        self, key: int | None, name: str, group: str, card_family: str
    ) -> tuple[str, float]:
        cache_key = (key, name, group, card_family)
        found = self._cache.get(cache_key)
        if found is None:
            found = self._lookup(key, name, group, card_family)
            if len(self._cache) > 100_000:  # bounded against hostile input
                self._cache.clear()
            self._cache[cache_key] = found
        return found

    def _lookup(
        self, key: int | None, name: str, group: str, card_family: str
    ) -> tuple[str, float]:
        for rule in self._rules:
            if rule.matches(key, name, group, card_family):
                return rule.family, rule.scale
        return UNKNOWN_FAMILY, 1.0


def _compile(rule: UnitRule) -> _Compiled:
    return _Compiled(
        family=rule.family,
        scale=rule.scale,
        key=rule.key,
        name=re.compile(rule.name, re.IGNORECASE) if rule.name else None,
        group=rule.group.upper() if rule.group else None,
        card_family=rule.card_family.upper() if rule.card_family else None,
    )
