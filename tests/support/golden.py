"""The golden exposition: what the exporter serves for the seeded demo network.

Like node_exporter's collector/fixtures/e2e-output.txt. The simulator runs on a frozen clock
and never ticks, every tier runs once (intervals of an hour), so the NMS data is the same on
every run; only what depends on this machine's clock or speed is normalised (see NORMALISED).

Regenerate after an intended change of the exposition:

    .venv/bin/python -m tests.support.golden
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx2
import msgspec

from padtec_exporter.demo import DemoOptions, demo_exporter_config
from padtec_exporter.exporter import Exporter
from padtec_exporter.simulate import SimulatorConfig, start_simulator
from tests.support.processes import free_port

GOLDEN = Path(__file__).resolve().parent.parent / "expose" / "demo-exposition.txt"
FROZEN_AT = 1_767_225_600.0  # 2026-01-01T00:00:00Z: the simulated NMS's clock, stopped
HOUR = 3600.0

# Values that depend on this machine (wall clock, speed, versions), not on the NMS data; the
# series, labels, HELP and TYPE lines stay as they are. A changed value format elsewhere shows.
VALUE_NORMALISED = re.compile(
    r"^(padtec_collection_last_(?:success|run)_timestamp_seconds"
    r"|padtec_collection_duration_seconds"
    r"|padtec_exporter_config_last_reload_success_timestamp_seconds"
    r"|padtec_snapshot_render_duration_seconds"
    r"|padtec_nms_request_duration_seconds_(?:bucket|sum|count)"
    # How many requests the views of the first runs took: a short first page is probed for a
    # page-size cap unless a view that finished earlier served a larger page, and which view
    # finishes first depends on the machine's speed (and on the HTTP client's).
    r"|padtec_nms_requests_total"
    r"|padtec_nms_clock_offset_seconds"
    r")(\{.*\})? (.*)$"
)
BUILD_LABELS = re.compile(r'(python_version|version)="[^"]*"')


def normalise(text: str) -> str:
    """Only padtec_ families (process_/python_ ones describe this process); values that depend
    on the machine replaced; build labels replaced; samples sorted inside their family (tiers
    finish in any order, and the client registers label sets in the order requests finish)."""
    out: list[str] = []
    samples: list[str] = []
    keep = False
    for line in text.splitlines():
        if line.startswith("# HELP "):
            out.extend(sorted(samples))
            samples = []
            keep = line.split()[2].startswith("padtec_")
        if not keep:
            continue
        if line.startswith("#"):
            out.append(line)
            continue
        match = VALUE_NORMALISED.match(line)
        if match:
            line = f"{match[1]}{match[2] or ''} <normalised>"
        if line.startswith("padtec_exporter_build_info"):
            line = BUILD_LABELS.sub(r'\1="<normalised>"', line)
        samples.append(line)
    out.extend(sorted(samples))
    return "\n".join(out) + "\n"


async def golden_exposition() -> str:
    """One scrape of the exporter polling the demo network once all tiers ran once."""
    options = DemoOptions()
    handle = await start_simulator(
        SimulatorConfig(
            seed=options.seed,
            sites=options.sites,
            cards_per_site=options.cards_per_site,
            update_interval_seconds=100 * HOUR,  # no update during the run
        ),
        f"127.0.0.1:{free_port()}",
        clock=lambda: FROZEN_AT,
    )
    listen = f"127.0.0.1:{free_port()}"
    config = demo_exporter_config(handle.url, DemoOptions(listen=listen))
    hourly = msgspec.structs.replace(
        config.collect,
        tiers={
            name: msgspec.structs.replace(tier, interval_seconds=HOUR)
            for name, tier in config.collect.tiers.items()
        },
    )
    exporter = Exporter(msgspec.structs.replace(config, collect=hourly))
    try:
        await exporter.start()
        return await _settled(f"http://{listen}/metrics")
    finally:
        await exporter.close()
        await handle.close()


async def _settled(url: str, timeout: float = 60.0) -> str:
    """The exposition once every tier succeeded and two scrapes in a row agree."""
    deadline = asyncio.get_running_loop().time() + timeout
    previous = ""
    async with httpx2.AsyncClient(timeout=10) as http:
        while True:
            text = normalise((await http.get(url)).text)
            done = sum(
                1
                for line in text.splitlines()
                if line.startswith("padtec_collection_runs_total{")
                and 'result="success"' in line
                and not line.endswith(" 0.0")
            )
            if done >= 4 and text == previous:
                return text
            previous = text
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the demo exposition did not settle")
            await asyncio.sleep(1.0)


def main() -> None:
    GOLDEN.write_text(asyncio.run(golden_exposition()))
    print(f"wrote {GOLDEN.relative_to(Path.cwd())}", file=sys.stderr)


if __name__ == "__main__":
    main()
