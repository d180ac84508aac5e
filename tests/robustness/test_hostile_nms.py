"""A hostile NMS over real HTTP: the exporter process survives every reply, keeps its memory
bounded, keeps serving the last good data in a valid exposition, and counts what went wrong.

A proxy in front of the simulator turns its honest ``measures/state`` replies into pages that
never end, a 100 MB page, truncated JSON, an HTML error page with status 200 and rows of the
wrong types; the exporter runs as its own process (``padtec-exporter serve``) so its peak
memory can be read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml
from aiohttp import ClientSession, web
from prometheus_client.parser import text_string_to_metric_families

from padtec_exporter.simulate import SimulatorConfig, start_simulator
from padtec_exporter.web.server import serve_app
from tests.support.processes import ManagedProcess, cli_command, free_port, require_binary

PAGE_SIZE = 20
CAP_BYTES = 8 * 1024 * 1024
HUGE_BYTES = 100 * 1024 * 1024
MEASURES = "measures/state"
Samples = dict[str, list[tuple[dict[str, str], float]]]


@dataclass
class Proxy:
    """Forwards to the simulator; ``mode`` decides what becomes of measure pages."""

    upstream: str
    mode: str = "honest"
    served: dict[str, int] = field(default_factory=dict)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        tail = request.match_info["tail"]
        mode = self.mode if tail.endswith(MEASURES) else "honest"
        self.served[mode] = self.served.get(mode, 0) + 1
        query = dict(request.query)
        if mode == "repeat":
            query["page"] = "0"  # an NMS that ignores `page`: the same full page forever
        if mode == "huge":
            return await self._huge(request)
        if mode == "html":
            return web.Response(
                status=200,
                content_type="text/html",
                text="<html><body><h1>Internal error</h1>Try again later</body></html>",
            )
        async with (
            ClientSession() as session,
            session.request(
                request.method,
                f"{self.upstream}/{tail}",
                params=query,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
                data=await request.read(),
            ) as upstream,
        ):
            body = await upstream.read()
            status = upstream.status
        if mode == "truncated":
            body = body[: len(body) // 2]
        elif mode == "wrong_types" and status == 200:
            body = json.dumps([_wrong_types(row) for row in json.loads(body)]).encode()
        return web.Response(status=status, body=body, content_type="application/json")

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        # Chunked, no Content-Length: the exporter only learns the size by reading.
        response = web.StreamResponse(status=200)
        response.content_type = "application/json"
        await response.prepare(request)
        row = json.dumps({"cardUid": "x" * 200, "measureValue": "1.0"}).encode() + b","
        chunk = b"[" + row * (65536 // len(row))
        sent = 0
        try:
            while sent < HUGE_BYTES:
                await response.write(chunk)
                sent += len(chunk)
                chunk = row * (65536 // len(row))
            await response.write(b"{}]")
        except (ConnectionResetError, RuntimeError):
            pass  # the exporter hung up once past its cap: what we want
        return response


def _wrong_types(row: dict[str, Any]) -> dict[str, Any]:
    # Every other row keeps its shape, so good rows must still come through.
    if hash(json.dumps(row, sort_keys=True)) % 2:
        return row
    return {**row, "measureValue": {"nested": [1, 2]}, "measureKey": ["7255"]}


@dataclass
class Rig:
    proxy: Proxy
    metrics_url: str
    exporter: ManagedProcess
    http: httpx2.AsyncClient

    async def scrape(self) -> tuple[str, dict[str, list[tuple[dict[str, str], float]]]]:
        response = await self.http.get(self.metrics_url)
        assert response.status_code == 200
        samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                samples.setdefault(sample.name, []).append((sample.labels, sample.value))
        return response.text, samples

    async def wait_for(
        self,
        what: str,
        condition: Callable[[dict[str, list[tuple[dict[str, str], float]]]], bool],
        timeout: float = 30.0,
    ) -> dict[str, list[tuple[dict[str, str], float]]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            assert self.exporter.alive(), f"exporter died:\n{self.exporter.log()[-3000:]}"
            _, samples = await self.scrape()
            if condition(samples):
                return samples
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{what}: not seen in {timeout} s")
            await asyncio.sleep(0.2)

    def peak_rss_bytes(self) -> int:
        status = Path(f"/proc/{self.exporter.proc.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


def total(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **want: str) -> float:
    return sum(
        v for labels, v in samples.get(name, []) if all(labels.get(k) == x for k, x in want.items())
    )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    sim = await start_simulator(
        SimulatorConfig(seed=3, sites=2, cards_per_site=4, update_interval_seconds=0.5),
        f"127.0.0.1:{free_port()}",
    )
    proxy = Proxy(sim.url)
    app = web.Application()
    app.router.add_route("*", "/nms-api/{tail:.*}", proxy.handle)
    proxy_listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(app, proxy_listen)
    listen = f"127.0.0.1:{free_port()}"
    config = {
        "nms": [
            {
                "name": "hostile",
                "base_url": f"http://{proxy_listen}/nms-api",
                "auth": {"username": "admin", "password": "admin"},
                "page_size": PAGE_SIZE,
                "max_pages": 50,
                "max_response_bytes": CAP_BYTES,
                "read_timeout_seconds": 5,
                "retry": {"attempts": 2, "initial_backoff_seconds": 0.05, "jitter_seconds": 0},
                "breaker": {"failure_threshold": 1000, "reset_timeout_seconds": 1},
            }
        ],
        "collect": {
            "inventory": {"interval_seconds": 2},
            "critical": {"interval_seconds": 0.5},
            "all_measures": {"interval_seconds": 0.5},
            "alarms": {"interval_seconds": 1},
        },
        "web": {"listen_address": listen},
    }
    path = tmp_path / "exporter.yml"
    path.write_text(yaml.safe_dump(config))
    exporter = ManagedProcess("exporter", cli_command("serve", "--config", str(path)), tmp_path)
    try:
        await asyncio.to_thread(exporter.wait_http, f"http://{listen}/readyz")
        async with httpx2.AsyncClient(timeout=5.0) as http:
            yield Rig(proxy, f"http://{listen}/metrics", exporter, http)
    finally:
        code = exporter.stop()
        await runner.cleanup()
        await sim.close()
    assert code == 0, exporter.log()[-3000:]


def measure_series(samples: dict[str, list[tuple[dict[str, str], float]]]) -> int:
    return sum(
        len(rows)
        for name, rows in samples.items()
        if name.startswith("padtec_") and "measure_key" in (rows[0][0] if rows else {})
    )


async def promtool_check(text: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        require_binary("promtool"),
        "check",
        "metrics",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate(text.encode())
    return out.decode()


def failures(samples: Samples, reason: str) -> float:
    return total(samples, "padtec_nms_request_failures_total", endpoint=MEASURES, reason=reason)


def failed_more(samples: Samples, *, reason: str, before: float) -> bool:
    return failures(samples, reason) > before


def succeeded_more(samples: Samples, *, done: float) -> bool:
    return (
        total(samples, "padtec_collection_runs_total", tier="all_measures", result="success") > done
    )


FAILING_MODES = [
    ("repeat", "malformed"),
    ("huge", "too_large"),
    ("truncated", "malformed"),
    ("html", "malformed"),
]


async def test_every_hostile_reply_is_survived_counted_and_the_last_data_kept(rig: Rig) -> None:
    # The baseline is a full sweep: the critical tier alone publishes fewer series first.
    good = await rig.wait_for(
        "a full sweep",
        lambda s: (
            total(s, "padtec_collection_runs_total", tier="all_measures", result="success") > 0
        ),
    )
    series, cards = measure_series(good), total(good, "padtec_card_info")
    rss_before = rig.peak_rss_bytes()

    for mode, reason in FAILING_MODES:
        rig.proxy.mode = mode
        before = failures((await rig.scrape())[1], reason)
        samples = await rig.wait_for(
            f"{mode} counted as {reason}",
            partial(failed_more, reason=reason, before=before),
        )
        text, samples = await rig.scrape()
        assert await promtool_check(text) == "", mode
        # The last good snapshot is still served while the NMS misbehaves.
        assert measure_series(samples) == series, mode
        assert total(samples, "padtec_card_info") == cards, mode
        rig.proxy.mode = "honest"
        done = total(samples, "padtec_collection_runs_total", tier="all_measures", result="success")
        await rig.wait_for(
            f"recovery after {mode}",
            partial(succeeded_more, done=done),
        )

    # The 100 MB page was cut at the 8 MB cap (per concurrent request) while streaming.
    assert rig.proxy.served.get("huge", 0) >= 1
    grown = rig.peak_rss_bytes() - rss_before
    assert grown < HUGE_BYTES // 2, f"peak RSS grew by {grown / 2**20:.0f} MiB"


async def test_rows_of_the_wrong_type_are_dropped_counted_and_the_rest_kept(rig: Rig) -> None:
    await rig.wait_for("measures", lambda s: measure_series(s) > 0)
    rig.proxy.mode = "wrong_types"
    samples = await rig.wait_for(
        "wrong_type rows counted",
        lambda s: (
            total(s, "padtec_rows_invalid_total", resource="measures", reason="wrong_type") > 0
        ),
    )
    text, samples = await rig.scrape()
    assert await promtool_check(text) == ""
    assert measure_series(samples) > 0
    assert total(samples, "padtec_nms_up") == 1.0
