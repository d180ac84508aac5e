"""Chaos soak: the exporter against a simulator under random faults, scraped every second.

Faults (outages 5xx/hang, slowness, token expiry, 429s, malformed pages of every kind, cards
appearing and disappearing) come and go at random for --seconds (default 600). At the end the
faults are cleared and the exposed inventory is compared with the simulator's truth. Prints a
markdown report; asserts nothing. Stops by itself; sends traffic to loopback only.

    .venv/bin/python bench/chaos_soak.py --seconds 600 > soak.md
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client.parser import text_string_to_metric_families
from tests.support.stack import running_exporter, running_simulator

FAULTS: list[dict[str, Any]] = [
    {"type": "outage", "mode": "5xx"},
    {"type": "outage", "mode": "hang"},
    {"type": "slow", "delay_seconds": 1.5},
    {"type": "token_expiry", "every_seconds": 3},
    {"type": "rate_limit", "probability": 0.4, "retry_after_seconds": 0.5},
    {"type": "malformed", "probability": 0.5, "mode": "truncated"},
    {"type": "malformed", "probability": 0.5, "mode": "html"},
    {"type": "malformed", "probability": 0.5, "mode": "wrong_shape"},
    {"type": "malformed", "probability": 0.5, "mode": "bad_rows"},
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def scrape(url: str) -> tuple[float, dict[str, list[tuple[dict[str, str], float]]]]:
    started = time.perf_counter()
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        text = resp.read().decode()
    elapsed = time.perf_counter() - started
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return elapsed, out


def runs(samples: dict[str, list[tuple[dict[str, str], float]]], result: str) -> float:
    return sum(
        v
        for labels, v in samples.get("padtec_collection_runs_total", [])
        if labels["result"] == result
    )


def main(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_simulator(Path(tmp), "--sites", "4", "--cards-per-site", "8") as sim,
        running_exporter(
            Path(tmp), sim.url, critical=1.0, all_measures=2.0, alarms=1.0, inventory=3.0
        ) as exporter,
    ):
        pid = exporter.process.proc.pid
        time.sleep(20)  # warm up before the RSS baseline
        rss_start = rss_kib(pid)
        latencies: list[float] = []
        failed_scrapes = 0
        fault_count = 0
        card_changes = 0
        active: list[tuple[float, str]] = []
        end = time.monotonic() + args.seconds
        next_fault = time.monotonic() + 5
        while time.monotonic() < end:
            now = time.monotonic()
            for until, fault_id in [a for a in active if a[0] <= now]:
                sim.clear_fault(fault_id)
                active.remove((until, fault_id))
            if now >= next_fault:
                truth = sim.truth()
                if rng.random() < 0.25:
                    if rng.random() < 0.5:
                        sim.add_fault(
                            {
                                "type": "card_added",
                                "site": rng.choice(truth["sites"]),
                                "card_model": rng.choice(["TM1200G-SA", "EOA1-HA-E21001-GV"]),
                            }
                        )
                    else:
                        sim.add_fault(
                            {"type": "card_removed", "card_uid": rng.choice(truth["card_uids"])}
                        )
                    card_changes += 1
                else:
                    fault_id = sim.add_fault(rng.choice(FAULTS))
                    active.append((now + rng.uniform(3, 20), fault_id))
                    fault_count += 1
                next_fault = now + rng.uniform(3, 12)
            try:
                elapsed, _ = scrape(exporter.url)
                latencies.append(elapsed)
            except OSError:
                failed_scrapes += 1
            time.sleep(max(0.0, 1.0 - (time.monotonic() - now)))
        sim.clear_faults()
        time.sleep(8)  # one inventory and a few cycles without faults
        _, final = scrape(exporter.url)
        rss_end = rss_kib(pid)
        truth = sim.truth()
        exposed = {labels["card_uid"] for labels, _ in final["padtec_card_info"]}
        failures: dict[str, float] = {}
        for labels, v in final.get("padtec_nms_request_failures_total", []):
            failures[labels["reason"]] = failures.get(labels["reason"], 0) + v
        invalid: dict[str, float] = {}
        for labels, v in final.get("padtec_rows_invalid_total", []):
            invalid[labels["reason"]] = invalid.get(labels["reason"], 0) + v
        ok, bad, skipped = runs(final, "success"), runs(final, "failure"), runs(final, "skipped")
        ms = sorted(x * 1000 for x in latencies)
        print(f"""## Chaos soak report

`.venv/bin/python bench/chaos_soak.py --seconds {args.seconds} --seed {args.seed}`

| figure | value |
|---|---|
| duration | {args.seconds} s, scraped every second |
| faults injected | {fault_count} (outage 5xx/hang, slow, token expiry, 429, 4 malformed modes), {card_changes} cards added/removed |
| scrapes answered | {len(latencies)} of {len(latencies) + failed_scrapes} |
| scrape latency | p50 {statistics.median(ms):.1f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms |
| collection runs | {ok:.0f} succeeded, {bad:.0f} failed (faults), {skipped:.0f} ticks skipped while a run was busy; {ok + bad:.0f} attempted |
| request failures by reason | {", ".join(f"{k} {v:.0f}" for k, v in sorted(failures.items()))} |
| invalid rows by reason | {", ".join(f"{k} {v:.0f}" for k, v in sorted(invalid.items())) or "none"} |
| exporter RSS | {rss_start / 1024:.1f} MiB after warm-up, {rss_end / 1024:.1f} MiB at the end ({(rss_end - rss_start) / rss_start * 100:+.1f} %) |
| inventory after the faults | {len(exposed)} cards exposed, simulator has {truth["cards"]}; {"identical" if exposed == set(truth["card_uids"]) else "DIFFERENT"} |
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=7)
    main(parser.parse_args())
