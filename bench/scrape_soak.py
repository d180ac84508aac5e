"""Scrape soak: the exporter (basic auth on) under many concurrent scrapers; is its RSS flat?

Starts the simulator and the exporter as processes on loopback, with a web config holding a
bcrypt (cost 10) user, then runs --scrapers clients (default 50), each on its own connection,
each scraping /metrics with the right password every --interval seconds (default 1) for
--seconds after a --warmup. Samples the exporter's RSS every 10 s and prints a markdown
report: RSS at warm-up, per quarter and at the end, the least-squares slope after warm-up,
scrape latencies. Asserts nothing. Stops by itself; loopback only.

    .venv/bin/python bench/scrape_soak.py --seconds 1800 > soak.md
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bcrypt
import httpx2
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.processes import ManagedProcess, cli_command, free_port, wait_http
from tests.support.stack import exporter_config, running_simulator

USER, PASSWORD = "prometheus", "soak-password"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def slope_mib_per_hour(points: list[tuple[float, int]]) -> float:
    if len(points) < 2:
        return 0.0
    xs = [t for t, _ in points]
    ys = [kib / 1024 for _, kib in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den * 3600


async def scraper(
    url: str, until: float, interval: float, out: list[float], errors: list[int]
) -> None:
    async with httpx2.AsyncClient(auth=(USER, PASSWORD), timeout=10) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                response = await client.get(f"{url}/metrics")
                response.raise_for_status()
                out.append(time.perf_counter() - started)
            except httpx2.HTTPError:
                errors[0] += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))


async def soak(url: str, pid: int, args: argparse.Namespace) -> dict[str, object]:
    latencies: list[float] = []
    errors = [0]
    start = time.monotonic()
    until = start + args.warmup + args.seconds
    tasks = [
        asyncio.create_task(scraper(url, until, args.interval, latencies, errors))
        for _ in range(args.scrapers)
    ]
    points: list[tuple[float, int]] = []
    while time.monotonic() < until:
        points.append((time.monotonic() - start, rss_kib(pid)))
        await asyncio.sleep(10)
    await asyncio.gather(*tasks)
    points.append((time.monotonic() - start, rss_kib(pid)))
    return {"points": points, "latencies": latencies, "errors": errors[0]}


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        web = Path(tmp) / "web.yml"
        hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
        web.write_text(yaml.safe_dump({"basic_auth_users": {USER: hashed}}))
        with running_simulator(Path(tmp), "--sites", "4", "--cards-per-site", "8") as sim:
            listen = f"127.0.0.1:{free_port()}"
            config = exporter_config(
                {"sim": sim.url}, listen=listen, critical=5.0, all_measures=15.0, inventory=60.0
            )
            config["web"]["config_file"] = str(web)
            config_path = Path(tmp) / "exporter.yml"
            config_path.write_text(yaml.safe_dump(config))
            proc = ManagedProcess(
                "exporter", cli_command("serve", "--config", str(config_path)), Path(tmp)
            )
            try:
                wait_http(f"http://{listen}/readyz", 60, proc.proc, ok_codes=(401,))
                result = asyncio.run(soak(f"http://{listen}", proc.proc.pid, args))
            finally:
                proc.stop()
    points: list[tuple[float, int]] = result["points"]  # type: ignore[assignment]
    after = [(t, kib) for t, kib in points if t >= args.warmup]
    base, end = after[0][1], after[-1][1]
    peak = max(kib for _, kib in after)
    quarters = [after[min(len(after) - 1, round(q * (len(after) - 1) / 4))] for q in range(1, 4)]
    ms = sorted(x * 1000 for x in result["latencies"])  # type: ignore[attr-defined]
    print(f"""## Scrape soak report

`.venv/bin/python bench/scrape_soak.py --seconds {args.seconds:g} --scrapers {args.scrapers} --interval {args.interval:g} --warmup {args.warmup:g}`

| figure | value |
|---|---|
| load | {args.scrapers} concurrent scrapers (basic auth, bcrypt cost 10), each every {args.interval:g} s, for {args.seconds:g} s after {args.warmup:g} s of warm-up |
| scrapes answered | {len(ms)} ({result["errors"]} failed) |
| scrape latency | p50 {statistics.median(ms):.1f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms |
| RSS at start / after warm-up | {points[0][1] / 1024:.1f} MiB / {base / 1024:.1f} MiB |
| RSS at 1/4, 1/2, 3/4 | {", ".join(f"{kib / 1024:.1f} MiB" for _, kib in quarters)} |
| RSS at the end | {end / 1024:.1f} MiB ({(end - base) / base * 100:+.1f} % since warm-up), peak {peak / 1024:.1f} MiB |
| RSS trend after warm-up | {slope_mib_per_hour(after):+.2f} MiB/hour (least squares over {len(after)} samples) |
""")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1800)
    parser.add_argument("--warmup", type=float, default=180)
    parser.add_argument("--scrapers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=1.0)
    main(parser.parse_args())
