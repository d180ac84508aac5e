"""promtool tests generated from thresholds.yml: every rule and every override must fire when
crossed, not fire when not crossed, not flap inside its hysteresis band, and clear past it.

The thresholds come from the file, so the tests follow a threshold change; what they check is
Prometheus evaluating the committed rule file.
"""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest
import yaml

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import alert_annotations, bounds_for, scope_label
from padtec_exporter.rulegen.thresholds import Override, Threshold
from tests.support.processes import REPO, require_binary

THRESHOLDS = REPO / "prometheus" / "thresholds.yml"
SELECTOR = re.compile(r"^(\w+)(?:\{(.*)\})?$")
MATCHER = re.compile(r'(\w+)\s*(=~|=)\s*"([^"]*)"')
DEFAULT_CARD = {
    "card_model": "TEST-MODEL",
    "card_family": "TEST",
    "card_serial": "999999",
    "site": "Test site",
}


def minutes(duration: str | None) -> int:
    if not duration or duration in ("0", "0s"):
        return 0
    match = re.fullmatch(r"(\d+)([smh])", duration)
    assert match, f"unsupported duration in the test generator: {duration}"
    value, unit = int(match.group(1)), match.group(2)
    return {"s": max(1, value // 60) if value else 0, "m": value, "h": value * 60}[unit]


def series_labels(rule: Threshold) -> tuple[str, dict[str, str]] | None:
    match = SELECTOR.match(rule.expr.strip())
    if match is None:
        return None  # derived expressions have hand-written tests in prometheus/tests
    labels = {name: value.split("|")[0] for name, _, value in MATCHER.findall(match.group(2) or "")}
    return match.group(1), labels


def render(template: str, labels: dict[str, str], value: float) -> str:
    text = template.replace('{{ printf "%.2f" $value }}', f"{value:.2f}")
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), text)


def fmt(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def scenario(rule: Threshold, index: int | None, side: str) -> dict[str, Any]:
    override: Override | None = None if index is None else rule.overrides[index]
    bounds = bounds_for(rule, override)
    metric, selector = series_labels(rule)  # type: ignore[misc]
    card = dict(DEFAULT_CARD) if override is None else {**DEFAULT_CARD, **override.scope()}
    uid = card.pop("card_uid", f"{card['card_model']}#{card['card_serial']}")
    calm_uid = uid + "-calm"
    base = {"nms": "core", "site": card["site"], "card_uid": uid}
    h = bounds.hysteresis
    if side == "low":
        assert bounds.low is not None
        t, sign = bounds.low, 1.0
    else:
        assert bounds.high is not None
        t, sign = bounds.high, -1.0
    normal, beyond, clear = t + sign * (h + 2), t - sign * 1, t + sign * (h + 1)
    band = [t + sign * h * 0.3, t + sign * h * 0.7]
    f, keep = minutes(rule.for_), minutes(rule.keep_firing_for)
    hot = f + 3
    band_len = 10 if h > 0 else 0
    values = (
        [normal] * 5
        + [beyond] * hot
        + [band[i % 2] for i in range(band_len)]
        + [clear] * (keep + 5)
    )
    calm = (
        [normal if i % 2 else band[i % 2] for i in range(len(values))]
        if h > 0
        else [normal] * len(values)
    )
    info = {
        "nms": "core",
        "site": card["site"],
        "card_uid": uid,
        **{k: v for k, v in card.items() if k != "site"},
    }
    labels = {**base, **selector}
    expected = {
        **labels,
        "severity": rule.severity,
        "threshold": rule.name,
        "scope": scope_label(override),
    }
    notes = alert_annotations("https://example.invalid", rule, bounds)
    base_url = load_thresholds(THRESHOLDS).runbook_base_url

    def firing(minute: int) -> list[dict[str, Any]]:
        value = values[minute]
        return [
            {
                "exp_labels": expected,
                "exp_annotations": {
                    "summary": render(notes["summary"], labels, value),
                    "description": render(notes["description"], labels, value),
                    "runbook_url": f"{base_url.rstrip('/')}/{rule.runbook}",
                },
            }
        ]

    fire_at = 5 + f
    band_start = 5 + hot
    clear_start = band_start + band_len
    checks = [(4, []), (fire_at, firing(fire_at))]
    checks += [(m, firing(m)) for m in range(band_start, clear_start)]
    checks.append((clear_start + keep, []))
    return {
        "interval": "1m",
        "input_series": [
            {"series": f"padtec_card_info{fmt(info)}", "values": f"1x{len(values)}"},
            {
                "series": f"padtec_card_info{fmt({**info, 'card_uid': calm_uid})}",
                "values": f"1x{len(values)}",
            },
            {"series": f"{metric}{fmt(labels)}", "values": " ".join(map(repr, values))},
            {
                "series": f"{metric}{fmt({**labels, 'card_uid': calm_uid})}",
                "values": " ".join(map(repr, calm)),
            },
        ],
        "alert_rule_test": [
            {"eval_time": f"{m}m", "alertname": rule.alert, "exp_alerts": exp} for m, exp in checks
        ],
    }


def cases() -> list[tuple[str, Threshold, int | None, str]]:
    out = []
    for rule in load_thresholds(THRESHOLDS).rules:
        if not rule.enabled or series_labels(rule) is None:
            continue
        sides = {"ABOVE": ["high"], "BELOW": ["low"], "RANGE": ["low", "high"]}[rule.condition]
        for index in [None, *range(len(rule.overrides))]:
            if index is not None and rule.overrides[index].enabled is False:
                continue
            for side in sides:
                name = f"{rule.name}-{'default' if index is None else f'override{index}'}-{side}"
                out.append((name, rule, index, side))
    return out


CASES = cases()


def test_every_plain_threshold_rule_is_covered() -> None:
    assert {c[1].name for c in CASES} >= {
        "pump_power",
        "input_power",
        "osnr",
        "board_temperature",
        "card_down",
    }


@pytest.fixture(scope="module")
def promtool_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One promtool run per case file, all at once (a run costs ~0.1 s)."""
    promtool = require_binary("promtool")
    workdir = tmp_path_factory.mktemp("promtool")
    results = {}
    for name, rule, index, side in CASES:
        doc = {
            "rule_files": [str(REPO / "prometheus" / "rules" / "padtec-thresholds.yml")],
            "evaluation_interval": "1m",
            "tests": [scenario(rule, index, side)],
        }
        path = workdir / f"{name}.yml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
        run = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
        results[name] = "" if run.returncode == 0 else run.stdout + run.stderr
    return results


@pytest.mark.parametrize("case", [c[0] for c in CASES])
def test_threshold_fires_holds_in_band_and_clears(
    case: str, promtool_results: dict[str, str]
) -> None:
    assert promtool_results[case] == ""
