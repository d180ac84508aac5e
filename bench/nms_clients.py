"""Benchmark: CPU per NMS page of the HTTP clients at hand, side by side on the same pages.

Starts the simulator in its own process (same network as exporter_cycle.py), then fetches
every page of ``measures/state`` with each client in turn, ``--concurrency`` requests in
flight, and prints the CPU this process spent per client and page size. Only the transfer is
measured: bodies are read whole and dropped (no JSON decoding). The NmsClient row is the
exporter's own client (paging, retries, breaker, metrics; on aiohttp): its pager needs each
page's row count, a byte scan whose CPU is also shown taken out. The client's warnings are
printed at the end (a clean run has none, e.g. no "nms unreachable; retrying"). Asserts nothing.

    .venv/bin/python bench/nms_clients.py
    .venv/bin/python bench/nms_clients.py --page-sizes 500 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import httpcore2
import httpx2
from prometheus_client import CollectorRegistry
from tests.support.stack import SimulatorProcess, running_simulator

from padtec_exporter.config import config_from_data
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.nms.paging import Page


def login(base: str) -> str:
    request = urllib.request.Request(
        f"{base}/admin/login",
        data=json.dumps({"username": "admin", "password": "admin", "clientId": "b"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(request) as reply:
                return str(json.loads(reply.read())["token"])
        except urllib.error.HTTPError:
            raise
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


async def gather_limited(urls: list[str], one: Callable[[str], Awaitable[int]], limit: int) -> int:
    slots = asyncio.Semaphore(limit)

    async def run(url: str) -> int:
        async with slots:
            return await one(url)

    return sum(await asyncio.gather(*(run(url) for url in urls)))


async def with_httpx2(urls: list[str], headers: dict[str, str], limit: int) -> int:
    async with httpx2.AsyncClient(
        limits=httpx2.Limits(max_connections=limit, max_keepalive_connections=limit)
    ) as client:

        async def one(url: str) -> int:
            return len((await client.get(url, headers=headers)).content)

        return await gather_limited(urls, one, limit)


async def with_httpcore2(urls: list[str], headers: dict[str, str], limit: int) -> int:
    async with httpcore2.AsyncConnectionPool(max_connections=limit) as pool:

        async def one(url: str) -> int:
            reply = await pool.request("GET", url, headers=list(headers.items()))
            return len(reply.content)

        return await gather_limited(urls, one, limit)


async def with_aiohttp(urls: list[str], headers: dict[str, str], limit: int) -> int:
    connector = aiohttp.TCPConnector(limit=limit)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

        async def one(url: str) -> int:
            async with session.get(url, headers=headers) as reply:
                return len(await reply.read())

        return await gather_limited(urls, one, limit)


async def with_nms_client(base: str, size: int, limit: int, counting: list[float]) -> int:
    """One sweep with the exporter's client; ``counting`` gets the CPU of counting rows."""
    config = config_from_data(
        {
            "nms": [
                {
                    "name": "bench",
                    "base_url": base.removesuffix("/v1"),
                    "auth": {"username": "admin", "password": "admin"},
                    "page_size": size,
                    "max_concurrency": limit,
                    "read_timeout_seconds": 60,
                }
            ]
        }
    )
    received = 0
    spent = 0.0

    def keep(body: bytes) -> Page[None]:
        nonlocal received, spent
        received += len(body)
        # The pager needs the row count: counted without decoding (every row has one uid).
        # Timed apart: it is a decoder's work (a scan of every byte), not the HTTP client's.
        started = time.process_time()
        rows = body.count(b'"measureUid"')
        spent += time.process_time() - started
        return Page([], rows)

    async with NmsClient(config.nms[0], NmsMetrics(CollectorRegistry())) as client:
        await client.fetch_sweep("measures/state", {}, keep)
    counting.append(spent)
    return received


class Warnings(logging.Handler):
    """The NMS client's warnings (e.g. "nms unreachable; retrying"): a clean sweep has none."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {getattr(record, 'fields', '')}")


async def main(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_simulator(
            Path(tmp),
            "--sites",
            str(args.sites),
            "--cards-per-site",
            "100",
            "--extra-measures-per-card",
            "49",
            "--latency",
            str(args.latency),
            "--log-level",
            "warning",
            update_interval=3600,
            startup_timeout=300,
        ) as sim,
    ):
        await compare_clients(args, sim)


async def compare_clients(args: argparse.Namespace, sim: SimulatorProcess) -> None:
    base = f"{sim.url}/v1"
    headers = {"Authorization": login(base)}
    with urllib.request.urlopen(f"{sim.control_url}/truth") as reply:
        measures = int(json.loads(reply.read())["measures"])
    warnings = Warnings()
    logging.getLogger("padtec_exporter.nms").addHandler(warnings)
    for size in args.page_sizes:
        pages = measures // size + 1
        counting: list[float] = []
        urls = [f"{base}/measures/state?page={n}&size={size}" for n in range(pages)]
        clients: dict[str, Callable[[], Awaitable[int]]] = {
            "aiohttp ClientSession.get": partial(with_aiohttp, urls, headers, args.concurrency),
            "httpcore2 pool.request": partial(with_httpcore2, urls, headers, args.concurrency),
            "httpx2 AsyncClient.get": partial(with_httpx2, urls, headers, args.concurrency),
            "NmsClient.fetch_sweep (aiohttp)": partial(
                with_nms_client, base, size, args.concurrency, counting
            ),
        }
        await with_aiohttp(urls, headers, args.concurrency)  # the simulator warms up
        cpu: dict[str, list[float]] = {name: [] for name in clients}
        volume = 0
        for _ in range(args.rounds):
            for name, run in clients.items():
                cpu0 = time.process_time()
                volume = await run()
                cpu[name].append(time.process_time() - cpu0)
        print(f"pages of {size}: {pages} requests, {volume / 1e6:.0f} MB per sweep")
        nms_client = cpu["NmsClient.fetch_sweep (aiohttp)"]
        cpu["  the same less row counting"] = [
            total - spent for total, spent in zip(nms_client, counting, strict=True)
        ]
        fastest = min(statistics.median(v) for v in cpu.values())
        for name, seconds in cpu.items():
            median = statistics.median(seconds)
            print(
                f"  {name:32} CPU {median:5.2f} s per sweep ({median / pages * 1000:.2f} ms "
                f"per request; {median / fastest:.1f}x the fastest; runs "
                f"{', '.join(f'{s:.2f}' for s in seconds)})"
            )
    print(f"NmsClient warnings: {len(warnings.lines)}")
    for line in warnings.lines:
        print(f"  {line}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--page-sizes", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per NMS request")
    asyncio.run(main(parser.parse_args()))
