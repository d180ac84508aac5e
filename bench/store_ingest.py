"""Benchmark: samples per second the store writes into plain PostgreSQL on this machine.

Starts a PostgreSQL cluster (as tests do) and the receiver process, then posts realistic
remote-write batches (padtec measure series, one sample each, like Prometheus shards send)
from several concurrent senders. Prints samples/s stored, batch size and senders; checks the
row count in SQL. Asserts nothing.

    .venv/bin/python bench/store_ingest.py [--series 100000] [--rounds 5] [--batch 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import running_postgres
from tests.support.processes import ManagedProcess, cli_command, free_port

from padtec_exporter.store.remote_write import encode_write_request


def batches(series: int, batch: int, round_ms: int) -> list[bytes]:
    out = []
    for start in range(0, series, batch):
        rows = []
        for i in range(start, min(series, start + batch)):
            labels = {
                "__name__": "padtec_power_dbm",
                "nms": "core",
                "site": f"Site {i % 100}",
                "card_uid": f"TM1200G-SA#{i // 50}",
                "measure": "Rx Power",
                "measure_key": str(8001 + i % 50),
                "measure_subkey": "0",
                "port": "Line 1",
                "job": "padtec",
                "instance": "exporter:9787",
            }
            rows.append((labels, [(round_ms, -12.0 + (i % 7) * 0.1)]))
        out.append(encode_write_request(rows))
    return out


async def send_all(url: str, payloads: list[bytes], senders: int) -> None:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(p)

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            response = await client.post(url, content=body, headers={"Content-Encoding": "snappy"})
            if response.status_code != 204:
                raise RuntimeError(f"receiver answered {response.status_code}: {response.text}")

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(sender(client) for _ in range(senders)))


async def main(args: argparse.Namespace) -> None:
    with running_postgres() as pg, tempfile.TemporaryDirectory() as tmp:
        dsn = pg.create_database("bench")
        (Path(tmp) / "dsn").write_text(dsn)
        port = free_port()
        proc = ManagedProcess(
            "store",
            cli_command(
                "store",
                "--listen",
                f"127.0.0.1:{port}",
                "--dsn-file",
                str(Path(tmp) / "dsn"),
                "--log-level",
                "warning",
            ),
            Path(tmp),
        )
        try:
            proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
            url = f"http://127.0.0.1:{port}/api/v1/write"
            base = int(time.time() * 1000) - args.rounds * 30_000
            # Round 0 registers the series (first sight costs an INSERT into `series`).
            await send_all(url, batches(args.series, args.batch, base), args.senders)
            payloads = [
                batches(args.series, args.batch, base + (r + 1) * 30_000)
                for r in range(args.rounds)
            ]
            started = time.perf_counter()
            for round_payloads in payloads:
                await send_all(url, round_payloads, args.senders)
            elapsed = time.perf_counter() - started
            samples = args.series * args.rounds
            with psycopg.connect(dsn) as conn:
                stored = conn.execute("SELECT count(*) FROM measurements").fetchone()[0]
            print(
                f"stored {samples} samples in {elapsed:.2f}s: {samples / elapsed:,.0f} "
                f"samples/s (batch {args.batch} samples, {args.senders} senders, "
                f"{args.series} series); rows in measurements: {stored} "
                f"(expected {args.series * (args.rounds + 1)})"
            )
        finally:
            proc.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
