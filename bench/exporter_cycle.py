"""Benchmark: one full collection cycle at scale, and /metrics latency while it runs.

Starts the simulator as a separate process (10,000 cards x ~50 measures by default, with a
per-request latency), then in this process: the real client, decoder and collector do full
sweeps of measures/state and the real renderer and HTTP server serve /metrics. Three sweeps: a
warm-up, the measured one (alone in the process, so its CPU is the cycle's), and one while a
separate process scrapes /metrics as Prometheus does (OpenMetrics, gzip) for the latency
figures. Prints figures; asserts nothing.

    .venv/bin/python bench/exporter_cycle.py            # the README's figures
    .venv/bin/python bench/exporter_cycle.py --sites 10 --cards-per-site 100   # quicker
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from tests.support.processes import free_port
from tests.support.self_metrics import requests_sent
from tests.support.stack import running_simulator

from padtec_exporter.collect import CollectMetrics
from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.data import NmsData
from padtec_exporter.config import config_from_data
from padtec_exporter.exporter import tune_interpreter
from padtec_exporter.expose import ExporterHttp, Renderer
from padtec_exporter.expose.loop import release
from padtec_exporter.expose.server import ReadyState
from padtec_exporter.model import RowDecoder, UnitResolver
from padtec_exporter.model.values import ValueRejected, parse_number, text
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.nms.paging import Page
from padtec_exporter.web import serve_app

SCRAPER = r"""
import gzip, http.client, json, sys, time
host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
# Prometheus 2.x's scrape request: OpenMetrics preferred, gzip.
ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
          "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
lat, end = [], time.monotonic() + seconds
while time.monotonic() < end:
    t = time.perf_counter()
    c = http.client.HTTPConnection(host, port, timeout=30)
    c.request("GET", "/metrics", headers={"Accept-Encoding": "gzip", "Accept": ACCEPT})
    r = c.getresponse(); body = r.read(); c.close()
    lat.append(time.perf_counter() - t)
    time.sleep(0.05)
print(json.dumps({"latencies": lat, "gzip_bytes": len(body)}))
"""


class GcClock:
    """Time the cyclic garbage collector takes, by generation (it runs in every thread)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        gc.callbacks.append(self._callback)

    def reset(self) -> None:
        self.seconds, self.runs = [0.0, 0.0, 0.0], [0, 0, 0]

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._started
            self.runs[info["generation"]] += 1

    def __str__(self) -> str:
        return "gc " + " ".join(
            f"gen{g} {n}x {s:.2f}s"
            for g, (n, s) in enumerate(zip(self.runs, self.seconds, strict=True))
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_simulator(
            Path(tmp),
            "--sites",
            str(args.sites),
            "--cards-per-site",
            str(args.cards_per_site),
            "--extra-measures-per-card",
            str(args.extra_measures),
            "--latency",
            str(args.latency),
            "--log-level",
            "warning",
            update_interval=args.update_interval,
            startup_timeout=300,  # 20,000 cards take a while to build
        ) as sim,
    ):
        with urllib.request.urlopen(f"{sim.control_url}/truth") as reply:
            truth: dict[str, int] = json.loads(reply.read())
        print(
            f"network: {truth['cards']} cards, {truth['measures']} measures "
            f"({truth['measures'] / max(truth['cards'], 1):.1f} per card), "
            f"latency {args.latency * 1000:.0f} ms/request, page size {args.page_size}, "
            f"concurrency {args.concurrency}"
        )
        await run_cycles(args, sim.url, free_port(), truth)


async def run_cycles(
    args: argparse.Namespace, nms_url: str, http_port: int, truth: dict[str, int]
) -> None:
    tune_interpreter()  # as run_until_stopped does in the exporter
    config = config_from_data(
        {
            "nms": [
                {
                    "name": "bench",
                    "base_url": nms_url,
                    "auth": {"username": "admin", "password": "admin"},
                    "page_size": args.page_size,
                    "max_concurrency": args.concurrency,
                    "read_timeout_seconds": 60,
                }
            ],
        }
    )
    gc_clock = GcClock()
    registry = CollectorRegistry()
    nms_metrics = NmsMetrics(registry)
    collect_metrics = CollectMetrics(registry)
    renderer = Renderer()
    state = {"exposition": renderer.render([])}
    client = NmsClient(config.nms[0], nms_metrics)
    decoder = RowDecoder(UnitResolver(), on_invalid=lambda r, x: None)
    collector = NmsCollector(
        "bench", client, decoder, config.collect, collect_metrics, lambda data: None
    )

    async def no_reload() -> tuple[bool, str]:
        return False, "not in the benchmark"

    http = ExporterHttp(
        registry, lambda: state["exposition"], lambda: ReadyState(True, "bench"), no_reload
    )
    runner = await serve_app(http.app(), f"127.0.0.1:{http_port}")
    await collector.run_job("inventory")
    requests_before = requests_sent(registry)
    # Cycle 1 warms caches (label prefixes, timestamps); cycle 2 is the measured one, alone
    # in the process; cycle 3 runs while another process scrapes /metrics (its CPU includes
    # serving those scrapes).
    for cycle in (1, 2, 3):
        scraper = None
        if cycle == 3:
            scraper = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                SCRAPER,
                "127.0.0.1",
                str(http_port),
                str(args.scrape_seconds),
                stdout=asyncio.subprocess.PIPE,
            )
        requests_before = requests_sent(registry)
        profile = cProfile.Profile(time.process_time) if args.profile and cycle == 2 else None
        if profile is not None:
            profile.enable()
        gc_clock.reset()
        times0 = os.times()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        ok = await collector.run_job("normal")
        exposition = await asyncio.to_thread(renderer.render, [collector.data])
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        replaced = [state["exposition"]]
        state["exposition"] = exposition
        await asyncio.to_thread(release, replaced)  # as the exporter's render loop does
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        times1 = os.times()
        user, system = times1.user - times0.user, times1.system - times0.system
        requests = requests_sent(registry) - requests_before
        if cycle == 2:
            cpu_measured = cpu
        bound = requests * args.latency / args.concurrency
        role = {1: "warm-up", 2: "measured", 3: "with scrapes"}[cycle]
        print(
            f"cycle {cycle} ({role}): ok={ok} rows={len(collector.data.measures)} "
            f"requests={requests:.0f} wall={wall:.2f}s bound={bound:.2f}s "
            f"ratio={wall / bound if bound else 0:.2f} "
            f"cpu={cpu:.2f}s (user {user:.2f}s, system {system:.2f}s; render {exposition.render_seconds:.2f}s) "
            f"peak RSS so far {peak_rss_mb():.0f} MB; {gc_clock}"
        )
        if scraper is not None:
            out, _ = await scraper.communicate()
            result = json.loads(out)
            lat = [x * 1000 for x in result["latencies"]]
            print(
                f"/metrics during and after the cycle: {len(lat)} scrapes, "
                f"p50={statistics.median(lat):.1f} ms p99={percentile(lat, 0.99):.1f} ms "
                f"max={max(lat):.1f} ms"
            )
    print(
        f"exposition: {exposition.series} series, "
        f"plain {sum(len(part) for chunk in exposition.parts for part in chunk) / 1e6:.1f} MB, "
        f"gzip {len(exposition.gzipped.complete(b'')) / 1e6:.1f} MB"
    )
    exporter_cpu, exporter_rss = cpu_measured, peak_rss_mb()
    print(f"peak RSS: {exporter_rss:.0f} MB")
    await runner.cleanup()
    # The floor and the naive design, on the same pages fetched once more (after the
    # exporter's figures, so the copies kept here count in no figure above).
    bodies = await fetch_bodies(client)
    await client.close()
    floor = floor_cpu(bodies)
    naive, naive_series = naive_cpu(bodies, collector.data)
    print(
        f"floor (only decoding the {len(bodies)} pages' JSON, {sum(map(len, bodies)) / 1e6:.0f} MB, "
        f"with {floor[0]}): {floor[1]:.2f}s of CPU"
    )
    print(
        f"naive (prometheus_client custom collector, {naive_series} series): decode "
        f"{naive[0]:.2f}s + one scrape's exposition {naive[1]:.2f}s = {sum(naive):.2f}s of CPU "
        "per sweep, and the exposition part again on every scrape"
    )
    print(
        f"ratios: exporter/floor {exporter_cpu / floor[1]:.1f}x, "
        f"naive/exporter {sum(naive) / exporter_cpu:.1f}x "
        f"(measured sweep {exporter_cpu:.2f}s of CPU)"
    )


async def fetch_bodies(client: NmsClient) -> list[bytes]:
    """The raw pages of one full sweep of measures/state, through the same client."""
    bodies: list[bytes] = []

    def keep(body: bytes) -> Page[None]:
        bodies.append(body)
        return Page([], len(msgspec.json.decode(body)))

    await client.fetch_sweep("measures/state", {}, keep)
    return bodies


def floor_cpu(bodies: list[bytes]) -> tuple[str, float]:
    """CPU of decoding every page into Python objects with the fastest decoder here."""
    decoders: dict[str, Callable[[bytes], object]] = {"msgspec": msgspec.json.decode}
    try:
        import orjson  # type: ignore[import-not-found, unused-ignore]

        decoders["orjson"] = orjson.loads
    except ImportError:
        pass
    best = ("", float("inf"))
    for name, decode in decoders.items():
        cpu0 = time.process_time()
        for body in bodies:
            decode(body)
        best = min(best, (name, time.process_time() - cpu0), key=lambda x: x[1])
    return best


class NaiveCollector:
    """The design the exporter replaces: every scrape turns the decoded rows into metric
    families with prometheus_client: the measure families with the same labels and unit
    scaling, and card_info (not the per-card timestamps, card_up or alarms: 502,803 of the
    exporter's 530,402 series at the default size, so its figure is a lower bound)."""

    def __init__(self, rows: list[dict[str, Any]], data: NmsData) -> None:
        self._rows, self._data, self._units = rows, data, UnitResolver()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        labels = ["nms", "site", "card_uid", "measure", "measure_key", "measure_subkey", "port"]
        families: dict[str, GaugeMetricFamily] = {}
        for row in self._rows:
            try:
                value = parse_number(row.get("measureValue"))
            except ValueRejected:
                continue
            key, name = row.get("measureKey"), text(row.get("measureName"))
            family, scale = self._units.resolve(
                key if isinstance(key, int) else None,
                name,
                text(row.get("measureGroup")),
                text(row.get("cardFamily")),
            )
            metric = families.get(family)
            if metric is None:
                metric = families[family] = GaugeMetricFamily(
                    f"padtec_{family}", family, labels=labels
                )
            metric.add_metric(
                [
                    "bench",
                    text(row.get("locationSite")),
                    text(row.get("cardUid")),
                    name,
                    text(key),
                    text(row.get("measureSubKey")),
                    text(row.get("port")),
                ],
                value * scale,
            )
        info = GaugeMetricFamily(
            "padtec_card_info",
            "Card inventory",
            labels=["nms", "site", "card_uid", "card_model", "card_family", "card_part"],
        )
        for card in self._data.cards.values():
            info.add_metric(["bench", card.site, card.uid, card.model, card.family, card.part], 1)
        yield info
        yield from families.values()


def naive_cpu(bodies: list[bytes], data: NmsData) -> tuple[tuple[float, float], int]:
    """CPU of the naive design: (decoding the pages, one scrape's exposition), and its series."""
    cpu0 = time.process_time()
    rows = [row for body in bodies for row in msgspec.json.decode(body)]
    decoded = time.process_time() - cpu0
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NaiveCollector(rows, data))
    cpu0 = time.process_time()
    text_out = generate_latest(registry)
    scrape = time.process_time() - cpu0
    series = text_out.count(b"\n") - text_out.count(b"\n#")
    return (decoded, scrape), series


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--cards-per-site", type=int, default=100)
    parser.add_argument(
        "--extra-measures",
        type=int,
        default=49,
        help="generic measures added per card; 49 gives ~500,000 measures on 10,000 cards "
        "(passive MUX/DEMUX cards carry none)",
    )
    parser.add_argument(
        "--update-interval",
        type=float,
        default=3600.0,
        help="seconds between the simulator's value updates; 3600 keeps every value of the "
        "run unchanged (a known series then costs one comparison), 10 changes most of them "
        "between two sweeps as the real NMS's 30 s refresh does",
    )
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--scrape-seconds", type=float, default=30.0)
    parser.add_argument("--profile", help="write a cProfile of the measured sweep to this file")
    asyncio.run(main(parser.parse_args()))
