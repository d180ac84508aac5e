"""The thresholds file: typed, validated, with errors that name the rule and the key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import msgspec

from padtec_exporter.configfile import ConfigError, load_struct

Condition = Literal["ABOVE", "BELOW", "RANGE"]
Severity = Literal["MINOR", "MAJOR", "CRITICAL"]
_DURATION = re.compile(r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$")
_ALERT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SCOPE_LABELS = ("card_serial", "card_uid", "site", "card_model", "card_family")


class Override(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    card_serial: str | None = None
    card_uid: str | None = None
    site: str | None = None
    card_model: str | None = None
    card_family: str | None = None
    min: float | None = None
    max: float | None = None
    hysteresis: float | None = None
    enabled: bool | None = None

    def scope(self) -> dict[str, str]:
        return {
            label: value for label in SCOPE_LABELS if (value := getattr(self, label)) is not None
        }


class Threshold(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    alert: str
    what: str
    expr: str
    condition: Condition
    severity: Severity
    min: float | None = None
    max: float | None = None
    unit: str = ""
    hysteresis: float = 0.0
    enabled: bool = True
    for_: str = msgspec.field(default="1m", name="for")
    keep_firing_for: str | None = None
    trend: bool = False
    runbook: str
    # Own wording instead of the generated text; "{limit}" and "{clear}" are replaced by the
    # threshold in words (e.g. "below 15 dB"), so a threshold change needs no text change.
    summary: str | None = None
    description: str | None = None
    overrides: list[Override] = msgspec.field(default_factory=list)


class ThresholdsFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    runbook_base_url: str
    rules: list[Threshold]


def load_thresholds(path: Path | str) -> ThresholdsFile:
    doc = load_struct(path, ThresholdsFile)
    names: set[str] = set()
    for i, rule in enumerate(doc.rules):
        where = f"{path}: rules[{i}] ({rule.name})"
        if rule.name in names:
            raise ConfigError(f"{where}: key 'name': '{rule.name}' is used twice")
        names.add(rule.name)
        if not _ALERT_NAME.match(rule.alert):
            raise ConfigError(f"{where}: key 'alert': expected a Prometheus alert name")
        for key in ("for_", "keep_firing_for"):
            value = getattr(rule, key)
            if value is not None and not _DURATION.match(value):
                raise ConfigError(f"{where}: key '{key.rstrip('_')}': expected a duration like 5m")
        _check_bounds(where, rule.condition, rule.min, rule.max, rule.hysteresis)
        for j, override in enumerate(rule.overrides):
            if not override.scope():
                raise ConfigError(
                    f"{where}: overrides[{j}]: expected one of {', '.join(SCOPE_LABELS)}"
                )
            _check_bounds(
                f"{where}: overrides[{j}]",
                rule.condition,
                _pick(override.min, rule.min),
                _pick(override.max, rule.max),
                _pick(override.hysteresis, rule.hysteresis),
            )
    return doc


def _pick(value: float | None, default: float | None) -> float | None:
    return default if value is None else value


def _check_bounds(
    where: str, condition: str, low: float | None, high: float | None, hysteresis: float | None
) -> None:
    if condition in ("BELOW", "RANGE") and low is None:
        raise ConfigError(f"{where}: key 'min': required with condition {condition}")
    if condition in ("ABOVE", "RANGE") and high is None:
        raise ConfigError(f"{where}: key 'max': required with condition {condition}")
    if hysteresis is not None and hysteresis < 0:
        raise ConfigError(f"{where}: key 'hysteresis': expected a number >= 0")
    if condition == "RANGE" and low is not None and high is not None:
        if low >= high:
            raise ConfigError(f"{where}: keys 'min'/'max': expected min < max")
        if hysteresis is not None and 2 * hysteresis >= high - low:
            raise ConfigError(f"{where}: key 'hysteresis': must be less than half the range")
