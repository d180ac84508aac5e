"""Benchmark: alert quality of the project's rules over simulated days.

Replays a simulated network through the real rule files (prometheus/rules/*.yml, as committed)
with `promtool test rules`: the values are the simulator's own (padtec_exporter.simulate: daily
temperature cycle, noise, weekly drift, per-card offsets, fault effects), sampled every
``--step`` seconds (the critical tier's collection interval) and written as one promtool input
series per metric the exporter would expose. Faults are injected on a schedule through the
simulator's fault API (pump degradation with a fast and a slow ramp, fibre cut, OSNR drop); the
two the simulator's data cannot express are applied as the exporter would show them (a card
whose measures stop refreshing; an NMS that hangs: padtec_nms_up 0 and its data frozen).

promtool, not a backfilled Prometheus: alert rules only run forward in time (`promtool tsdb
create-blocks-from rules` does recording rules only), and promtool evaluates every rule at
every step of simulated time. promtool prints the samples of a failed expectation, so the
bench asks, at the end, for every firing ALERTS series' first firing time and firing duration
with "expect nothing" and reads the answer from the failure report.

Prints per alert: false alerts on healthy cards (and NMS-level alerts outside their fault),
faults detected, faults missed, median time to detect (from the moment the fault's effect
crosses the alert's threshold; the target is the rule's `for` plus one collection interval),
and for the trend alert how long before the threshold alert it warned. Asserts nothing.

    .venv/bin/python bench/alert_quality.py              # the README's figures (~2 minutes)
    .venv/bin/python bench/alert_quality.py --days 9 --step 60 --sites 4 --cards-per-site 6
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from padtec_exporter.model import UnitResolver
from padtec_exporter.rulegen import load_thresholds
from padtec_exporter.rulegen.thresholds import Threshold
from padtec_exporter.simulate.config import SimulatorConfig
from padtec_exporter.simulate.network import Card
from padtec_exporter.simulate.simulator import Simulator

REPO = Path(__file__).resolve().parents[1]
RULES = sorted((REPO / "prometheus" / "rules").glob("*.yml"))
HOUR, DAY = 3600, 86400
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
# The threshold alerts whose onset is read from the values: pump range, power drop, OSNR.
ALERT_OF_FAULT = ("PadtecPumpPowerOutOfRange", "PadtecOpticalPowerDrop", "PadtecOsnrLow")
SAMPLE = re.compile(r"\{([^{}]*)\} (\S+?)(?:,|$)", re.MULTILINE)


@dataclass
class Fault:
    name: str
    start: int  # seconds of simulated time
    duration: int
    alerts: tuple[str, ...]  # alerts that must fire for it (the first is the primary)
    card_uid: str = ""  # card faults
    nms: str = ""  # NMS faults
    spec: dict[str, Any] = field(default_factory=dict)  # for the simulator's fault API
    onset: dict[str, float] = field(default_factory=dict)  # alert → when its condition began


@dataclass
class Replay:
    series: dict[str, list[str]]  # promtool series text → values
    faults: list[Fault]
    healthy_cards: set[str]
    end: int


def watched(family: str, key: int, name: str, exprs: list[str]) -> bool:
    """Whether a threshold rule reads this measure (others only cost promtool time)."""
    metric = f"padtec_{family}"
    for expr in exprs:
        if metric not in expr:
            continue
        if "measure" not in expr or f'measure_key="{key}"' in expr:
            return True
        if any(name in m.split("|") for m in re.findall(r'measure=~"([^"]*)"', expr)):
            return True
    return False


def labels_text(metric: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items() if v != "")
    return f"{metric}{{{inner}}}"


def pick(cards: list[Card], role: str, taken: set[str], model_prefix: str = "") -> Card:
    for card in cards:
        roles = {m.role for m in card.measures}
        if role in roles and card.uid not in taken and card.model.name.startswith(model_prefix):
            taken.add(card.uid)
            return card
    raise SystemExit(f"no free card with a {role} measure: use more --sites")


def plan_faults(sim: Simulator, nms_of: dict[str, str], days: float) -> list[Fault]:
    """The fault schedule; card faults on the NMS "core", the hang on "edge"."""
    core = [c for c in sim.network.cards if nms_of[c.site] == "core"]
    taken: set[str] = set()
    pump_fast, pump_slow = pick(core, "pump", taken), pick(core, "pump", taken)
    fibre, osnr = pick(core, "input", taken, "T"), pick(core, "osnr", taken)
    silent = pick(core, "temperature", taken)
    osnr_kind = next(i for i, m in enumerate(osnr.measures) if m.role == "osnr")
    healthy_osnr = osnr.measures[osnr_kind].typical + osnr.offsets[osnr_kind]
    third = int(days * DAY / 3)
    return [
        Fault(
            "pump degradation, fast ramp (10 min)",
            third + 6 * HOUR,
            3 * HOUR,
            ("PadtecPumpPowerOutOfRange",),
            pump_fast.uid,
            spec={"type": "pump_degradation", "target_dbm": 8.0, "ramp_seconds": 600},
        ),
        Fault(
            "pump degradation, slow ramp (6 days)",
            third,
            int(days * DAY),
            ("PadtecDegradationTrend", "PadtecPumpPowerOutOfRange"),
            pump_slow.uid,
            spec={"type": "pump_degradation", "target_dbm": 8.0, "ramp_seconds": 6 * DAY},
        ),
        Fault(
            "fibre cut (6 dB)",
            third + 30 * HOUR,
            3 * HOUR,
            ("PadtecOpticalPowerDrop",),
            fibre.uid,
            spec={"type": "fibre_cut", "loss_db": 6.0},
        ),
        Fault(
            "OSNR drop (to 13 dB)",
            third + 40 * HOUR,
            2 * HOUR,
            ("PadtecOsnrLow",),
            osnr.uid,
            spec={"type": "osnr_drop", "drop_db": round(healthy_osnr - 13.0, 3)},
        ),
        Fault(
            "card silent (measures stop refreshing)",
            third + 50 * HOUR,
            2 * HOUR,
            ("PadtecCardDown", "PadtecCardStale"),
            silent.uid,
        ),
        Fault(
            "NMS hang (no answer, data frozen)",
            third + 60 * HOUR,
            HOUR,
            ("PadtecNmsUnreachable",),
            nms="edge",
        ),
    ]


def replay(days: float, step: int, sites: int, cards_per_site: int, seed: int) -> Replay:
    now = [0.0]
    config = SimulatorConfig(
        seed=seed, sites=sites, cards_per_site=cards_per_site, update_interval_seconds=step
    )
    sim = Simulator(config, clock=lambda: now[0])
    site_names = sim.network.sites()
    nms_of = {s: ("edge" if i == len(site_names) - 1 else "core") for i, s in enumerate(site_names)}
    faults = plan_faults(sim, nms_of, days)
    units = UnitResolver()
    thresholds = {r.name: r for r in load_thresholds(REPO / "prometheus/thresholds.yml").rules}
    exprs = [r.expr for r in thresholds.values()]
    by_alert = {r.alert: r for r in thresholds.values()}
    series: dict[str, list[str]] = defaultdict(list)
    last: dict[str, str] = {}
    ticks = int(days * DAY / step)
    active: dict[int, str] = {}
    for tick in range(ticks + 1):
        t = tick * step
        now[0] = float(t)
        for index, fault in enumerate(faults):
            if fault.spec and t == fault.start - fault.start % step:
                active[index] = sim.add_fault({**fault.spec, "card_uid": fault.card_uid}).id
            if index in active and t >= fault.start + fault.duration:
                sim.clear_fault(active.pop(index))
        sim.advance()
        hung = {f.nms for f in faults if f.nms and f.start <= t < f.start + f.duration}
        frozen = {
            f.card_uid
            for f in faults
            if not f.spec and f.card_uid and f.start <= t < f.start + f.duration
        }
        for nms in ("core", "edge"):
            series[labels_text("padtec_nms_up", {"nms": nms})].append("0" if nms in hung else "1")
        series[labels_text("up", {"job": "padtec", "instance": "exporter:9787"})].append("1")
        for card in sim.network.cards:
            nms = nms_of[card.site]
            ids = {"nms": nms, "site": card.site, "card_uid": card.uid}
            stuck = nms in hung or card.uid in frozen
            info = labels_text(
                "padtec_card_info",
                {**ids, "card_model": card.model.name, "card_family": card.model.family},
            )
            series[info].append("1")
            # Like the real capture: cardIsUp false on working cards (every other card here).
            series[labels_text("padtec_card_up", ids)].append(str(card.number % 2))
            if not card.measures:
                continue  # passive MUX_DEMUX: no measures, no timestamp
            stamp = labels_text("padtec_card_last_update_timestamp_seconds", ids)
            series[stamp].append(last[stamp] if stuck else str(t))
            last[stamp] = series[stamp][-1]
            values = sim.values(card)
            for kind, value in zip(card.measures, values, strict=True):
                family, scale = units.resolve(kind.key, kind.name, kind.group or "", "")
                if not watched(family, kind.key, kind.name, exprs):
                    continue
                name = labels_text(
                    f"padtec_{family}",
                    {
                        **ids,
                        "measure": kind.name,
                        "measure_key": str(kind.key),
                        "measure_subkey": str(kind.subkey),
                        "port": kind.port or "",
                    },
                )
                series[name].append(last[name] if stuck else f"{value * scale:.3f}")
                last[name] = series[name][-1]
    for fault in faults:
        fault.onset = onsets(fault, series, step, by_alert)
    faulty = {f.card_uid for f in faults if f.card_uid}
    healthy = {
        c.uid
        for c in sim.network.cards
        if c.uid not in faulty and nms_of[c.site] not in {f.nms for f in faults if f.nms}
    }
    return Replay(dict(series), faults, healthy, ticks * step)


def onsets(
    fault: Fault, series: dict[str, list[str]], step: int, limits: dict[str, Threshold]
) -> dict[str, float]:
    """When each alert's condition began: the first sample beyond its threshold (read from
    thresholds.yml, default bounds) after the fault started."""
    if fault.nms:
        return {alert: float(fault.start) for alert in fault.alerts}
    if not fault.spec:  # silent card: the lag passes the threshold that long after it stops
        return {a: fault.start + (limits[a].max or 0.0) for a in fault.alerts if a in limits}
    pump, drop, osnr = (limits[a] for a in ALERT_OF_FAULT)
    assert pump.min is not None and drop.max is not None and osnr.min is not None
    checks: dict[str, tuple[str, Callable[[float, float], bool]]] = {
        pump.alert: ('measure_key="7260"', lambda v, before: v < (pump.min or 0.0)),
        drop.alert: (
            'measure="Rx Power",measure_key="8001",measure_subkey="0"',
            lambda v, before: before - v > (drop.max or 0.0),
        ),
        osnr.alert: ("padtec_osnr_db", lambda v, before: v < (osnr.min or 0.0)),
    }
    found: dict[str, float] = {}
    for alert in fault.alerts:
        if alert not in checks:
            continue
        needle, beyond = checks[alert]
        for text, values in series.items():
            if f'card_uid="{fault.card_uid}"' not in text or needle not in text:
                continue
            before = float(values[max(fault.start // step - 1, 0)])
            for index in range(fault.start // step, len(values)):
                if beyond(float(values[index]), before):
                    found[alert] = float(index * step)
                    break
    return found


def promtool_file(replay_: Replay, nms: str, step: int, workdir: Path) -> Path:
    """The promtool test of the series of one NMS (no rule joins two NMSs: each runs alone)."""
    end = replay_.end
    # First firing time of each ALERTS series, one day at a time (a week-long subquery at one
    # point per step loads more samples than promtool allows).
    first = f'min_over_time(timestamp(ALERTS{{alertstate="firing"}})[{DAY}s:{step}s])'
    days = [min((d + 1) * DAY, end) for d in range(math.ceil(end / DAY))]
    duration = f'count_over_time(ALERTS{{alertstate="firing"}}[{end + step}s])'
    mine = {s: v for s, v in replay_.series.items() if f'nms="{nms}"' in s or 'nms="' not in s}
    doc = {
        "rule_files": [str(p) for p in RULES],
        "evaluation_interval": f"{step}s",
        "tests": [
            {
                "interval": f"{step}s",
                "input_series": [{"series": s, "values": " ".join(v)} for s, v in mine.items()],
                "promql_expr_test": [
                    {"expr": duration, "eval_time": f"{end}s", "exp_samples": []},
                    *({"expr": first, "eval_time": f"{d}s", "exp_samples": []} for d in days),
                ],
            }
        ],
    }
    path = workdir / f"alert-quality-{nms}.yml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=1 << 30))
    return path


def run_promtool(paths: list[Path]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(first-firing samples, duration samples) read from promtool's failure reports; the
    files run side by side."""
    promtool = shutil.which("promtool")
    if promtool is None:
        raise SystemExit("promtool is not installed (Debian: prometheus)")
    procs = [
        subprocess.Popen(
            [promtool, "test", "rules", p.name],
            cwd=p.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for p in paths
    ]
    first: list[dict[str, str]] = []
    durations: list[dict[str, str]] = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode == 0:
            continue  # no alert fired at all
        if " err: " in out or "got:" not in out:
            raise SystemExit(f"unexpected promtool output:\n{out[-3000:]}")
        # One block per failed expectation: 'expr: "<query>", time: ...' then 'got: ...'.
        for block in out.split("    expr: ")[1:]:
            got = next((ln for ln in block.splitlines() if ln.strip().startswith("got:")), "")
            (durations if block.startswith('"count_over_time') else first).extend(_samples(got))
    # The earliest of the per-day first firings of each series.
    earliest: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}
    for sample in first:
        key = tuple(sorted((k, v) for k, v in sample.items() if k != "value"))
        if key not in earliest or float(sample["value"]) < float(earliest[key]["value"]):
            earliest[key] = sample
    return list(earliest.values()), durations


def _samples(line: str) -> list[dict[str, str]]:
    out = []
    for inner, value in SAMPLE.findall(line):
        labels = dict(LABEL.findall(inner))
        labels["value"] = value
        out.append(labels)
    return out


@dataclass
class Row:
    false_alerts: int = 0
    false_minutes: float = 0.0
    detected: int = 0
    missed: int = 0
    delays: list[float] = field(default_factory=list)
    target: float | None = None


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d)", text))


def rule_for(step: int) -> dict[str, float]:
    """Each alert's `for` (the longest, where overrides differ) from the rule files."""
    out: dict[str, float] = {}
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    seconds = duration_seconds(str(rule.get("for", "0s")))
                    out[rule["alert"]] = max(out.get(rule["alert"], 0.0), seconds)
    return out


def score(
    replay_: Replay, first: list[dict[str, str]], durations: list[dict[str, str]], step: int
) -> tuple[dict[str, Row], list[str]]:
    key = ("alertname", "nms", "card_uid", "measure_key", "measure_subkey", "threshold", "scope")

    def ident(sample: dict[str, str]) -> tuple[str, ...]:
        return tuple(sample.get(k, "") for k in key)

    minutes = {ident(s): float(s["value"]) * step / 60 for s in durations}
    rows: dict[str, Row] = defaultdict(Row)
    fors = rule_for(step)
    notes = []
    for sample in first:
        alert, card, nms = sample["alertname"], sample.get("card_uid", ""), sample.get("nms", "")
        at = float(sample["value"])
        if card and card in replay_.healthy_cards:
            rows[alert].false_alerts += 1
            rows[alert].false_minutes += minutes.get(ident(sample), 0.0)
            notes.append(f"false: {alert} on healthy {card} at {at / HOUR:.1f} h")
        elif card:
            fault = next((f for f in replay_.faults if f.card_uid == card), None)
            if fault is not None and alert not in fault.alerts:
                notes.append(f"also: {alert} on the card of '{fault.name}' at {at / HOUR:.1f} h")
        elif (
            not any(
                f.nms == nms and f.start <= at <= f.start + f.duration + HOUR
                for f in replay_.faults
            )
            and alert != "PadtecNmsAlarm"
        ):
            rows[alert].false_alerts += 1
            notes.append(f"false: {alert} on NMS {nms} at {at / HOUR:.1f} h")
    for fault in replay_.faults:
        for alert in fault.alerts:
            row = rows[alert]
            row.target = fors.get(alert, 0.0) + step
            hits = [
                float(s["value"])
                for s in first
                if s["alertname"] == alert
                and (
                    s.get("card_uid") == fault.card_uid
                    if fault.card_uid
                    else s.get("nms") == fault.nms
                )
                and float(s["value"]) >= fault.start
            ]
            if not hits:
                row.missed += 1
                notes.append(f"missed: {fault.name} ({alert})")
                continue
            row.detected += 1
            at = min(hits)
            onset = fault.onset.get(alert)
            if alert == "PadtecDegradationTrend":
                crossing = fault.onset.get("PadtecPumpPowerOutOfRange")
                lead = (
                    ""
                    if crossing is None
                    else f", {(crossing - at) / DAY:.1f} days before the threshold"
                )
                notes.append(
                    f"trend: {fault.name} warned {(at - fault.start) / DAY:.1f} days after it "
                    f"began{lead}"
                )
            elif onset is not None:
                row.delays.append(at - onset)
    return rows, notes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    parser.add_argument("--step", type=int, default=60, help="collection interval, seconds")
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--cards-per-site", type=int, default=6)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    started = time.monotonic()
    data = replay(args.days, args.step, args.sites, args.cards_per_site, args.seed)
    built = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="alert-quality-") as tmp:
        files = [promtool_file(data, nms, args.step, Path(tmp)) for nms in ("core", "edge")]
        first, durations = run_promtool(files)
    evaluated = time.monotonic()
    rows, notes = score(data, first, durations, args.step)
    samples = sum(len(v) for v in data.series.values())
    print(
        f"alert quality: {args.days:g} simulated days every {args.step} s, "
        f"{len(data.series)} series ({samples:,} samples), {len(data.healthy_cards)} healthy "
        f"cards, {len(data.faults)} faults; rules: {', '.join(p.name for p in RULES)}"
    )
    print(f"  replay built in {built - started:.1f} s, promtool ran {evaluated - built:.1f} s\n")
    header = f"{'alert':32} {'false':>5} {'detected':>8} {'missed':>6} {'median detect':>13} {'target':>7}"
    print(header)
    print("-" * len(header))
    for alert in sorted(rows):
        row = rows[alert]
        median = f"{statistics.median(row.delays):.0f} s" if row.delays else "-"
        target = (
            "-"
            if row.target is None or alert == "PadtecDegradationTrend"
            else f"{row.target:.0f} s"
        )
        print(
            f"{alert:32} {row.false_alerts:>5} {row.detected:>8} {row.missed:>6} "
            f"{median:>13} {target:>7}"
        )
    print()
    for note in notes:
        print(f"  {note}")
    late = [
        a
        for a, r in rows.items()
        if r.delays
        and r.target is not None
        and max(r.delays) > r.target
        and not math.isnan(r.target)
    ]
    total_false = sum(r.false_alerts for r in rows.values())
    false_minutes = sum(r.false_minutes for r in rows.values())
    total_missed = sum(r.missed for r in rows.values())
    print(
        f"\n  false alerts {total_false} ({false_minutes:.0f} min firing), missed {total_missed}, "
        f"later than for + one interval: {', '.join(late) or 'none'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
