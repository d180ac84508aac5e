"""Benchmark: does the store answer /healthz, /readyz and /metrics while it takes a maximal batch?

Starts PostgreSQL and the receiver process (`padtec-exporter store`, default limits), registers
--series padtec series, then posts one remote-write batch as large as the store accepts (just
under `max_decompressed_bytes`, 32 MiB inflated: about 1.6 million samples) and, meanwhile,
probes the three endpoints every 20 ms. Prints the batch's answer and time, and the probes'
latencies (p50, p99, max) and the receiver's peak RSS. Then a snappy bomb (100 MB declared) the same way. Asserts nothing.
Loopback only.

    .venv/bin/python bench/store_busy.py [--series 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cramjam
import httpx2 as httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import running_postgres
from tests.support.processes import ManagedProcess, cli_command, free_port
from tests.support.remote_write_series import series_labels as labels

from padtec_exporter.store.config import LimitsConfig
from padtec_exporter.store.remote_write import encode_write_request

HEADERS = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}


def maximal_batch(series: int, limit: int, start_ms: int) -> tuple[bytes, int]:
    """As many samples per series as fit under ``limit`` bytes once inflated."""
    one = len(bytes(cramjam.snappy.decompress_raw(encode_write_request([(labels(0), [])]))))
    per_series = (limit // series - one - 16) // 18
    rows = [
        (labels(i), [(start_ms + k * 1000, -12.0 + k * 0.01) for k in range(per_series)])
        for i in range(series)
    ]
    return encode_write_request(rows), series * per_series


async def probe(client: httpx.AsyncClient, url: str, stop: asyncio.Event) -> list[float]:
    seen: list[float] = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get(url)
        seen.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
        await asyncio.sleep(0.02)
    return seen


async def during(base: str, body: bytes) -> tuple[int, float, dict[str, list[float]]]:
    stop = asyncio.Event()
    async with httpx.AsyncClient(timeout=120) as client:
        probes = {
            path: asyncio.create_task(probe(client, f"{base}{path}", stop))
            for path in ("/healthz", "/readyz", "/metrics")
        }
        await asyncio.sleep(0.5)
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=300) as sender:
            response = await sender.post(f"{base}/api/v1/write", content=body, headers=HEADERS)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.5)
        stop.set()
        return response.status_code, elapsed, {p: await t for p, t in probes.items()}


def report(what: str, status: int, elapsed: float, probes: dict[str, list[float]]) -> None:
    print(f"{what}: answered {status} in {elapsed:.2f} s")
    for path, seen in probes.items():
        ms = sorted(x * 1000 for x in seen)
        print(
            f"  {path:9} {len(ms):4} probes: p50 {statistics.median(ms):.1f} ms, "
            f"p99 {ms[int(0.99 * (len(ms) - 1))]:.1f} ms, max {ms[-1]:.1f} ms"
        )


def peak_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(args: argparse.Namespace) -> None:
    limit = LimitsConfig().max_decompressed_bytes
    now_ms = int(time.time() * 1000) - 3_600_000
    with tempfile.TemporaryDirectory() as tmp, running_postgres() as pg:
        dsn = pg.create_database("busy")
        (Path(tmp) / "dsn").write_text(dsn)
        port = free_port()
        argv = cli_command(
            "store", "--listen", f"127.0.0.1:{port}", "--dsn-file", str(Path(tmp) / "dsn")
        )
        proc = ManagedProcess("store", argv, Path(tmp))
        try:
            proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
            base = f"http://127.0.0.1:{port}"
            first = encode_write_request(
                [(labels(i), [(now_ms - 60_000, 1.0)]) for i in range(args.series)]
            )
            httpx.post(f"{base}/api/v1/write", content=first, headers=HEADERS, timeout=300)
            body, samples = maximal_batch(args.series, limit - 1024, now_ms)
            print(
                f"maximal batch: {samples} samples of {args.series} known series, "
                f"{len(body) / 2**20:.1f} MiB snappy, under {limit / 2**20:.0f} MiB inflated"
            )
            print(f"receiver peak RSS before: {peak_mib(proc.proc.pid):.0f} MiB")
            report("maximal batch", *asyncio.run(during(base, body)))
            print(f"receiver peak RSS after the maximal batch: {peak_mib(proc.proc.pid):.0f} MiB")
            bomb = bytes(cramjam.snappy.compress_raw(bytes(100 * 2**20)))
            print(f"snappy bomb: {len(bomb) / 2**20:.1f} MiB declaring 100 MiB")
            report("snappy bomb", *asyncio.run(during(base, bomb)))
        finally:
            proc.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=20_000)
    main(parser.parse_args())
