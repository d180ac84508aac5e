"""Hysteresis in a running Prometheus, not only in `promtool test rules`.

The generated rules keep an alert firing through its own ``ALERTS`` series. This checks that
the self-reference behaves the same way when a real Prometheus scrapes and evaluates every
second: a pump power wobbling inside the band keeps one alert (same ``activeAt``, never
resolved), a card sitting in the band from the healthy side never fires, and leaving the band
resolves the alert. The rule file is the generated one with `for:` set to 0s; thresholds and
expressions are the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.generate import THRESHOLDS_FILE, render_rule_files
from tests.support.processes import REPO
from tests.support.prometheus import Prometheus, prometheus_config, running_prometheus
from tests.support.sinks import MetricsTarget, metrics_target

ALERT = "PadtecPumpPowerOutOfRange"
WOBBLING = "EOA1-HA-E21001-GV#12"
CALM = "EOA1-HA-E21001-GV#13"
DEFAULT = load_thresholds(REPO / "prometheus" / "thresholds.yml")
PUMP = next(rule for rule in DEFAULT.rules if rule.alert == ALERT)
assert PUMP.min is not None
LOW, BAND = PUMP.min, PUMP.hysteresis


def exposition(wobbling: float, calm: float) -> str:
    lines = []
    for card, value in ((WOBBLING, wobbling), (CALM, calm)):
        labels = f'nms="core",site="POLARIS",card_uid="{card}"'
        lines.append(
            f'padtec_card_info{{{labels},card_model="EOA1-HA-E21001-GV",card_family="AMPLIFIER"}} 1'
        )
        lines.append(
            f'padtec_power_dbm{{{labels},measure="Pump Power",measure_key="7260",'
            f'measure_subkey="0",port="Pump"}} {value}'
        )
    return "\n".join(lines) + "\n"


def pump_alerts(prom: Prometheus) -> dict[str, dict[str, Any]]:
    return {a["labels"]["card_uid"]: a for a in prom.alerts() if a["labels"]["alertname"] == ALERT}


def wait_until(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise TimeoutError("condition not met in time")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[MetricsTarget, Prometheus]]:
    rules = tmp_path / THRESHOLDS_FILE
    rules.write_text(render_rule_files(DEFAULT, for_override="0s")[THRESHOLDS_FILE])
    with metrics_target(exposition(18.0, LOW + BAND * 0.6)) as target:
        config = prometheus_config([target.address], rule_files=[rules])
        with running_prometheus(tmp_path, config) as prom:
            yield target, prom


def test_wobbling_inside_the_band_keeps_one_alert_until_it_leaves(
    stack: tuple[MetricsTarget, Prometheus],
) -> None:
    target, prom = stack
    calm = LOW + BAND * 0.6  # inside the band, but never crossed: must not fire
    prom.wait_for("padtec_power_dbm", lambda r: len(r) == 2, timeout=20)

    target.text = exposition(LOW - 1.0, calm)
    fired = wait_until(
        lambda: (a := pump_alerts(prom).get(WOBBLING)) and a["state"] == "firing" and a
    )

    # Six seconds (six evaluations) wobbling inside [LOW, LOW + BAND).
    wobble = [LOW + BAND * f for f in (0.4, 0.8, 0.2, 0.9, 0.1, 0.6)]
    for value in wobble:
        target.text = exposition(value, calm)
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            alerts = pump_alerts(prom)
            assert WOBBLING in alerts, f"resolved at {value} dBm, inside the band"
            assert alerts[WOBBLING]["state"] == "firing"
            assert alerts[WOBBLING]["activeAt"] == fired["activeAt"], "fired anew"
            assert CALM not in alerts, "a card that never crossed the threshold fired"
            time.sleep(0.25)
    latest = prom.query(f'padtec_power_dbm{{card_uid="{WOBBLING}"}}')
    assert LOW <= float(latest[0]["value"][1]) < LOW + BAND  # the rules saw in-band values

    target.text = exposition(LOW + BAND + 0.5, calm)
    wait_until(lambda: WOBBLING not in pump_alerts(prom))
    calm_history = f'count_over_time(ALERTS{{alertname="{ALERT}", card_uid="{CALM}"}}[5m])'
    assert prom.query(calm_history) == []
