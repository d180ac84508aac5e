"""Alert thresholds drawn on graphs, read from prometheus/thresholds.yml (the file the alert
rules are generated from), so that a graph and its alert never disagree.

Two drawings:
- ``default_steps``: Grafana thresholds of a panel from the rules' default bounds (panels that
  show many cards: overrides for some cards cannot be drawn per series there, so the panel
  description lists them);
- ``limit_targets``: PromQL series giving each card its own bounds, overrides included, built
  with the rule generator's own scoping so they match the alerts: one line per bound on the
  card dashboard, one per bound and scope on the site dashboard (a site with ROA1 amplifiers
  shows their 28 dBm pump limit next to the default 24 dBm).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from grafanalib.core import Target, Threshold

from dashgen.panels import SEVERITY_COLOURS, steps
from dashgen.queries import prom
from padtec_exporter.rulegen import ThresholdsFile, load_thresholds
from padtec_exporter.rulegen.generate import bounds_for, num, scope_label, scoped
from padtec_exporter.rulegen.thresholds import Threshold as Rule

THRESHOLDS_FILE = Path(__file__).resolve().parents[2] / "prometheus" / "thresholds.yml"


@dataclass(frozen=True)
class Limits:
    """The rules of thresholds.yml, looked up by name."""

    doc: ThresholdsFile

    @classmethod
    def load(cls, path: Path = THRESHOLDS_FILE) -> Limits:
        return cls(load_thresholds(path))

    def rule(self, name: str) -> Rule:
        for rule in self.doc.rules:
            if rule.name == name:
                return rule
        known = ", ".join(r.name for r in self.doc.rules)
        raise KeyError(f"{THRESHOLDS_FILE}: no rule named {name!r} (known: {known})")

    def default_steps(self, *names: str) -> list[Threshold]:
        """Colour bands of the default bounds of rules ``names``: green where none fires, else
        the colour of the worst severity firing there."""
        rules = [r for r in map(self.rule, names) if r.enabled]
        edges = sorted({b for r in rules for b in (r.min, r.max) if b is not None})
        if not edges:
            return []
        probes = [edges[0] - 1, *((a + b) / 2 for a, b in pairwise(edges))]
        probes.append(edges[-1] + 1)
        colours = [_colour_at(rules, v) for v in probes]
        pairs: list[tuple[str, float | None]] = [(colours[0], None)]
        for edge, colour in zip(edges, colours[1:], strict=True):
            if colour != pairs[-1][0]:
                pairs.append((colour, edge))
        return steps(*pairs)

    def describe(self, *names: str) -> str:
        """The default bounds and overrides of rules ``names``, for a panel description."""
        parts = []
        for rule in map(self.rule, names):
            text = f"{rule.alert} ({rule.severity}): {_bounds_text(rule, rule.min, rule.max)}"
            for override in rule.overrides:
                scope = ", ".join(f"{k}={v}" for k, v in override.scope().items())
                if override.enabled is False:
                    text += f"; {scope}: no alert"
                else:
                    text += f"; {scope}: {_bounds_text(rule, override.min, override.max)}"
            parts.append(text)
        return "Alert thresholds (prometheus/thresholds.yml): " + ". ".join(parts) + "."

    def limit_targets(
        self, card: str, *names: str, per_scope: bool = False
    ) -> tuple[list[Target], list[dict[str, Any]]]:
        """One target per rule giving the bounds that apply to the cards of selector ``card``
        (overrides included), and the overrides drawing them as dashed lines coloured by
        severity. ``per_scope``: one line per bound and scope (default or override) present
        among the cards, instead of one per card."""
        targets, overrides = [], []
        for name in names:
            rule = self.rule(name)
            expr = _limit_expr(rule, card)
            if expr is None:
                continue
            if per_scope:
                expr = f"max by (limit) ({expr})"
            targets.append(prom(expr, "{{limit}}", ref=name))
            overrides.append(_dashed(name, SEVERITY_COLOURS[rule.severity]))
        return targets, overrides


def _bounds_text(rule: Rule, low: float | None, high: float | None) -> str:
    unit = f" {rule.unit}" if rule.unit else ""
    return ", ".join(
        f"{key} {num(value)}{unit}"
        for key, value in (("min", low), ("max", high))
        if value is not None
    )


def _colour_at(rules: list[Rule], value: float) -> str:
    firing = [
        r
        for r in rules
        if (r.condition in ("BELOW", "RANGE") and r.min is not None and value < r.min)
        or (r.condition in ("ABOVE", "RANGE") and r.max is not None and value > r.max)
    ]
    if not firing:
        return "green"
    order = list(SEVERITY_COLOURS)  # worst first
    return SEVERITY_COLOURS[min((r.severity for r in firing), key=order.index)]


def _limit_expr(rule: Rule, card: str) -> str | None:
    """PromQL: the bounds of ``rule`` for the cards of ``card``, one series per bound, labelled
    ``limit``. The pieces of the overrides and of the default are disjoint (``scoped``), so
    ``or`` joins them."""
    if not rule.enabled:
        return None
    measured = f"({rule.expr}) and on(nms, card_uid) padtec_card_info{{{card}}}"
    series = []
    scopes = [(i, o) for i, o in enumerate(rule.overrides) if o.enabled is not False]
    for index, override in [*scopes, (None, None)]:
        bounds = bounds_for(rule, override)
        value = scoped(measured, rule, index).replace("\n", " ")
        where = "" if override is None else f" ({scope_label(override)})"
        for key, bound in (("min", bounds.low), ("max", bounds.high)):
            if bound is not None and _uses(rule, key):
                line = f"max by (nms, card_uid) ({value}) * 0 + {num(bound)}"
                name = f"{rule.alert} {key}{where}"
                series.append(f'label_replace({line}, "limit", "{name}", "", "")')
    return " or ".join(series) if series else None


def _uses(rule: Rule, key: str) -> bool:
    wanted = {"BELOW": ("min",), "ABOVE": ("max",), "RANGE": ("min", "max")}[rule.condition]
    return key in wanted


def _dashed(ref: str, colour: str) -> dict[str, Any]:
    return {
        "matcher": {"id": "byFrameRefID", "options": ref},
        "properties": [
            {"id": "color", "value": {"mode": "fixed", "fixedColor": colour}},
            {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
            {"id": "custom.fillOpacity", "value": 0},
            {"id": "custom.showPoints", "value": "never"},
        ],
    }
