"""``padtec-exporter doctor`` against the simulator and the evidence stand-in (real HTTP)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from padtec_exporter.config import ExporterConfig, config_from_data
from padtec_exporter.doctor import NmsReport, examine
from padtec_exporter.doctor.checks import zones_at
from padtec_exporter.simulate import SimulatorConfig, SimulatorHandle, start_simulator
from tests.support.evidence_nms import evidence_nms
from tests.support.processes import free_port


def exporter_config(base_url: str, **nms: Any) -> ExporterConfig:
    settings: dict[str, Any] = {
        "name": "sim",
        "base_url": base_url,
        "auth": {"username": "admin", "password": "admin"},
        "retry": {"attempts": 2, "initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.1},
        "read_timeout_seconds": 10.0,
        **nms,
    }
    return config_from_data({"nms": [settings]})


@asynccontextmanager
async def simulator(**config: Any) -> AsyncIterator[SimulatorHandle]:
    settings: dict[str, Any] = {"seed": 5, "sites": 2, "cards_per_site": 5, **config}
    handle = await start_simulator(SimulatorConfig(**settings), "127.0.0.1:0")
    try:
        yield handle
    finally:
        await handle.close()


async def doctor(config: ExporterConfig) -> NmsReport:
    return await examine(config, config.nms[0])


def by_name(report: NmsReport) -> dict[str, Any]:
    return {check.name: check for check in report.checks}


async def run_cli(tmp_path: Path, config: dict[str, Any], *args: str) -> tuple[int, str]:
    path = tmp_path / "exporter.yml"
    path.write_text(yaml.safe_dump(config))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "padtec_exporter.cli",
        "doctor",
        "--config",
        str(path),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, output.decode()


def nms_entry(url: str, **more: Any) -> dict[str, Any]:
    return {"nms": [{"name": "sim", "base_url": url, **more}]}


async def test_healthy_simulator_every_check_passes_and_json_says_ok(tmp_path: Path) -> None:
    # Cards that say cardIsUp true (the capture's false is the next test's case).
    async with simulator(card_is_up_on_healthy=True) as sim:
        truth = sim.simulator.truth()
        entry = nms_entry(sim.url, auth={"username": "admin", "password": "admin"})
        code, output = await run_cli(tmp_path, entry, "--json")
    assert code == 0, output
    doc = json.loads(output)
    assert doc["ok"] is True
    checks = {c["name"]: c for c in doc["nms"][0]["checks"]}
    assert {name: c["status"] for name, c in checks.items()} == {
        "auth": "ok",
        "endpoints": "ok",
        "paging": "ok",
        "counts": "ok",
        "api build": "ok",
        "clock": "ok",
        "card status": "ok",
        "units": "ok",
        "alarms": "info",
    }
    assert checks["counts"]["data"]["received"]["measures"] == truth["measures"]
    assert checks["counts"]["data"]["counted"]["inventory"] == truth["cards"]
    assert checks["clock"]["data"]["offset_seconds"] == 0  # the simulator's default zone: UTC
    assert checks["api build"]["data"]["build"] == "2025-12"
    assert doc["suggested_config"] == ""


async def test_a_capped_page_size_is_detected_and_suggested() -> None:
    async with simulator(max_page_size=20) as sim:
        report = await doctor(exporter_config(sim.url, page_size=50))
    paging = by_name(report)["paging"]
    assert paging.status == "warn" and paging.data["cap"] == 20
    assert "set page_size: 20" in paging.summary
    assert report.nms_settings == {"page_size": 20}
    assert report.collection_works


@pytest.mark.parametrize(
    "zone",
    [
        "America/St_Johns",  # UTC-3:30 or -2:30 (DST): negative, not whole hours
        "Asia/Kathmandu",  # UTC+5:45: positive, quarter hours
        "Europe/Berlin",  # a DST zone: +1 or +2 depending on the day the test runs
    ],
)
async def test_a_local_zone_is_worked_out_and_a_wrong_configured_zone_flagged(zone: str) -> None:
    async with simulator(timezone=zone) as sim:
        report = await doctor(exporter_config(sim.url, timezone="UTC"))
    expected = datetime.now(ZoneInfo(zone)).utcoffset()
    assert expected is not None
    clock = by_name(report)["clock"]
    assert clock.data["offset_seconds"] == int(expected.total_seconds())
    assert zone in zones_at(expected, datetime.now(UTC), limit=1000)
    assert clock.status == "warn" and any("timezone: UTC" in line for line in clock.lines)
    assert report.nms_settings["timezone"] in clock.data["zones"]


async def test_a_configured_zone_that_agrees_is_ok() -> None:
    async with simulator(timezone="America/St_Johns") as sim:
        report = await doctor(exporter_config(sim.url, timezone="America/St_Johns"))
    clock = by_name(report)["clock"]
    assert clock.status == "ok" and "timezone" not in report.nms_settings


async def test_unknown_measure_keys_get_a_units_snippet_that_the_config_accepts() -> None:
    from padtec_exporter.doctor.report import suggested_config

    async with simulator(extra_measures_per_card=2) as sim:
        config = exporter_config(sim.url)
        report = await doctor(config)
    units = by_name(report)["units"]
    assert units.status == "warn"
    assert {item["key"] for item in units.data["unknown"]} == {"9000", "9001"}
    snippet = yaml.safe_load(suggested_config([report]))
    assert [rule["key"] for rule in snippet["units"]] == [9000, 9001]
    # Pasted into the config, it is valid (config_from_data validates units).
    merged = config_from_data(
        {"nms": [{"base_url": sim.url, "auth": {"token": "t"}}], "units": snippet["units"]}
    )
    assert len(merged.units) == 2


async def test_rows_missing_from_the_sweep_are_reported() -> None:
    async with simulator() as sim:
        sim.simulator.add_fault({"type": "missing_rows", "view": "measures", "rows": 3})
        report = await doctor(exporter_config(sim.url))
    counts = by_name(report)["counts"]
    assert counts.status == "warn"
    assert counts.data["counted"]["measures"] - counts.data["received"]["measures"] == 3


async def test_a_wrong_password_exits_non_zero_with_the_fix(tmp_path: Path) -> None:
    async with simulator() as sim:
        entry = nms_entry(sim.url, auth={"username": "admin", "password": "not-the-password"})
        code, output = await run_cli(tmp_path, entry)
    assert code == 1, output
    assert "FAIL  auth" in output and "wrong username or password" in output
    assert "not-the-password" not in output
    assert "Result: collection cannot work for sim" in output


async def test_a_closed_port_exits_non_zero_naming_host_and_port(tmp_path: Path) -> None:
    port = free_port()
    entry = nms_entry(f"http://127.0.0.1:{port}/nms-api", auth={"token": "Token x"})
    entry["nms"][0]["retry"] = {"attempts": 1}
    code, output = await run_cli(tmp_path, entry)
    assert code == 1, output
    assert f"connection refused by 127.0.0.1:{port}" in output


async def test_the_evidence_stand_in_zone_card_status_and_counts(tmp_path: Path) -> None:
    with evidence_nms("America/Boa_Vista") as nms:
        entry = nms_entry(nms.url, auth={"username": nms.username, "password": nms.password})
        code, output = await run_cli(tmp_path, entry, "--json")
        _, text = await run_cli(tmp_path, entry)
    assert code == 0, output
    checks = {c["name"]: c for c in json.loads(output)["nms"][0]["checks"]}
    assert checks["clock"]["data"]["offset_seconds"] == -4 * 3600
    assert "America/Boa_Vista" in checks["clock"]["data"]["zones"]
    assert checks["card status"]["status"] == "warn"
    assert checks["card status"]["data"]["down_but_fresh"] == ["ROA1-HA-E29001-TR#374"]
    assert checks["counts"]["data"]["received"] == {
        "inventory": 1,
        "measures": 10,
        "active alarms": 0,
    }
    assert checks["counts"]["status"] == "ok"
    assert checks["units"]["status"] == "ok"  # every captured key is in the unit table
    assert checks["api build"]["data"]["build"] == "2025-12"
    assert "NMS local time is UTC-04:00" in text
    assert "1 of 1 cards with fresh measures say cardIsUp false" in text


async def test_a_refused_token_exits_non_zero_and_never_shows_the_token(tmp_path: Path) -> None:
    token = "Token eyJhbGciOiJIUzI1NiJ9.not-a-valid-token-value"
    async with simulator() as sim:
        code, output = await run_cli(tmp_path, nms_entry(sim.url, auth={"token": token}), "--json")
    assert code == 1, output
    doc = json.loads(output)
    auth = doc["nms"][0]["checks"][0]
    assert auth["name"] == "auth" and auth["status"] == "fail"
    assert "refused the token" in auth["summary"]
    assert "not-a-valid-token-value" not in output
