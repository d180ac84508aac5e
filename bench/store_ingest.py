"""Benchmark: samples per second the store writes into plain PostgreSQL on this machine.

Starts a PostgreSQL cluster with its default durability (fsync and synchronous commit on) and
the receiver process (`padtec-exporter store`), then posts realistic remote-write batches
(padtec measure series, one sample each per round, as Prometheus shards send them) from several
concurrent senders. A first round registers the series (first sight of a series costs an INSERT
into `series`); the timed rounds are steady state. Prints samples/s stored, the batch size, the
number of senders, the CPU time the receiver and PostgreSQL used, and the row count checked in
SQL. Asserts nothing.

    .venv/bin/python bench/store_ingest.py [--series 100000] [--rounds 10] [--batch 5000]
                                           [--senders 4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.postgres import running_postgres
from tests.support.processes import ManagedProcess, cli_command, free_port
from tests.support.remote_write_series import series_labels

from padtec_exporter.store.remote_write import encode_write_request


def batches(series: int, batch: int, round_ms: int) -> list[bytes]:
    out = []
    for start in range(0, series, batch):
        rows = []
        for i in range(start, min(series, start + batch)):
            rows.append((series_labels(i), [(round_ms, -12.0 + (i % 7) * 0.1)]))
        out.append(encode_write_request(rows))
    return out


async def send_all(url: str, payloads: list[bytes], senders: int) -> None:
    # aiohttp, not httpx: the sender shares the 2 cores with the receiver and PostgreSQL, and
    # httpx costs about 1.5 ms of CPU per request, aiohttp a fifth of that (Prometheus less).
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for p in payloads:
        queue.put_nowait(p)
    headers = {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
    }

    async def sender(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with session.post(url, data=body, headers=headers) as response:
                if response.status != 204:
                    raise RuntimeError(
                        f"receiver answered {response.status}: {await response.text()}"
                    )

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(sender(session) for _ in range(senders)))


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(datadir: Path) -> list[int]:
    """The postmaster and its children (backends, WAL writer, checkpointer, ...)."""
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                children.append(int(stat.parent.name))
        except (FileNotFoundError, ValueError):
            continue
    return [postmaster, *children]


def start_receiver(dsn: str, workdir: Path) -> tuple[ManagedProcess, str]:
    (workdir / "dsn").write_text(dsn)
    port = free_port()
    argv = cli_command(
        "store",
        "--listen",
        f"127.0.0.1:{port}",
        "--dsn-file",
        str(workdir / "dsn"),
        "--log-level",
        "warning",
    )
    proc = ManagedProcess("store", argv, workdir)
    proc.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60)
    return proc, f"http://127.0.0.1:{port}/api/v1/write"


async def main(args: argparse.Namespace) -> None:
    with running_postgres(durable=True) as pg, tempfile.TemporaryDirectory() as tmp:
        dsn = pg.create_database("bench")
        receiver, url = start_receiver(dsn, Path(tmp))
        try:
            base = int(time.time() * 1000) - args.rounds * 30_000
            # Round 0 registers the series (first sight costs an INSERT into `series`).
            await send_all(url, batches(args.series, args.batch, base), args.senders)
            payloads = [
                p
                for r in range(args.rounds)
                for p in batches(args.series, args.batch, base + (r + 1) * 30_000)
            ]
            watched = {"receiver": [receiver.proc.pid], "postgres": postgres_pids(pg.datadir)}
            cpu_before = {name: cpu_seconds(pids) for name, pids in watched.items()}
            started = time.perf_counter()
            # One queue for all rounds: senders never wait for each other, like shards.
            await send_all(url, payloads, args.senders)
            elapsed = time.perf_counter() - started
            cpu = {name: cpu_seconds(pids) - cpu_before[name] for name, pids in watched.items()}
        finally:
            receiver.stop()
        with psycopg.connect(dsn) as conn:
            (stored,) = conn.execute("SELECT count(*) FROM measurements").fetchall()[0]
            settings = conn.execute(
                "SELECT current_setting('fsync'), current_setting('synchronous_commit')"
            ).fetchall()[0]
    samples = args.series * args.rounds
    print(
        f"stored {samples} samples in {elapsed:.2f}s: {samples / elapsed:,.0f} samples/s "
        f"(batch {args.batch} samples, {args.senders} senders, {args.series} series, "
        f"{os.cpu_count()} cores, PostgreSQL fsync={settings[0]} "
        f"synchronous_commit={settings[1]})\n"
        f"CPU while timed: receiver {cpu['receiver']:.1f}s, PostgreSQL {cpu['postgres']:.1f}s "
        f"({1e6 * cpu['receiver'] / samples:.1f} and {1e6 * cpu['postgres'] / samples:.1f} "
        f"µs per sample)\n"
        f"rows in measurements: {stored} (expected {args.series * (args.rounds + 1)})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=4)
    asyncio.run(main(parser.parse_args()))
