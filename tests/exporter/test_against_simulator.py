"""The exporter against the simulator over real HTTP: what a user sees on /metrics."""

from __future__ import annotations

import asyncio
import time

import httpx2

from padtec_exporter.model import families as catalogue
from tests.exporter.conftest import Stack, value

MEASURE_FAMILIES = tuple(family.metric for family in catalogue.MEASURES)


def count(samples: dict[str, list[tuple[dict[str, str], float]]], *names: str) -> int:
    return sum(len(samples.get(name, [])) for name in names)


async def test_every_card_measure_and_alarm_of_the_simulator_is_exposed(stack: Stack) -> None:
    truth = await stack.truth()
    await stack.wait_for(
        lambda s: (
            count(s, *MEASURE_FAMILIES) == truth["measures"]
            and count(s, "padtec_nms_alarm_active") == truth["active_alarms"]
        )
    )
    samples = await stack.scrape()
    assert {labels["card_uid"] for labels, _ in samples["padtec_card_info"]} == set(
        truth["card_uids"]
    )
    assert {labels["site"] for labels, _ in samples["padtec_card_info"]} == set(truth["sites"])
    assert value(samples, "padtec_nms_up", nms="sim") == 1.0
    assert value(samples, "padtec_exporter_build_info") == 1.0
    pump = [v for labels, v in samples["padtec_power_dbm"] if labels["measure_key"] == "7260"]
    assert pump and all(12 <= v <= 24 for v in pump)
    ages = [time.time() - v for _, v in samples["padtec_card_last_update_timestamp_seconds"]]
    assert ages and max(ages) < 30


async def test_an_nms_outage_keeps_last_data_and_collection_resumes(stack: Stack) -> None:
    truth = await stack.truth()
    await stack.wait_for(lambda s: count(s, *MEASURE_FAMILIES) == truth["measures"])
    await stack.fault({"type": "outage", "mode": "5xx"})
    await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="sim") == 0.0)
    started = time.perf_counter()
    during = await stack.scrape()
    assert time.perf_counter() - started < 1.0  # answered at once, from the last data
    assert count(during, *MEASURE_FAMILIES) == truth["measures"]
    failures = sum(
        v
        for labels, v in during.get("padtec_nms_request_failures_total", [])
        if labels["reason"] == "http_5xx"
    )
    assert failures > 0
    last_success = value(
        during, "padtec_collection_last_success_timestamp_seconds", nms="sim", tier="critical"
    )
    assert last_success is not None
    await stack.clear_faults()
    await stack.wait_for(
        lambda s: (
            value(s, "padtec_nms_up", nms="sim") == 1.0
            and (
                value(
                    s,
                    "padtec_collection_last_success_timestamp_seconds",
                    nms="sim",
                    tier="critical",
                )
                or 0
            )
            > last_success
        ),
        timeout=30,
    )


async def test_token_expiry_and_rate_limits_lose_no_cycle(stack: Stack) -> None:
    await stack.fault({"type": "token_expiry", "every_seconds": 2})
    await stack.fault({"type": "rate_limit", "probability": 0.2, "retry_after_seconds": 0.1})
    before = await stack.scrape()

    def runs(samples: dict[str, list[tuple[dict[str, str], float]]], result: str) -> float:
        return sum(
            v
            for labels, v in samples.get("padtec_collection_runs_total", [])
            if labels["result"] == result
        )

    await asyncio.sleep(6)
    after = await stack.scrape()
    assert runs(after, "success") >= runs(before, "success") + 8
    assert runs(after, "failure") == runs(before, "failure")
    renewals = value(after, "padtec_nms_auth_renewals_total", nms="sim") or 0.0
    assert renewals > 0
    limited = sum(
        v for labels, v in after.get("padtec_nms_requests_total", []) if labels["code"] == "429"
    )
    assert limited > 0


async def test_cards_added_and_removed_follow_the_inventory(stack: Stack) -> None:
    truth = await stack.truth()
    site = truth["sites"][0]
    gone = truth["card_uids"][0]
    await stack.fault({"type": "card_added", "site": site, "card_model": "TM1200G-SA"})
    await stack.fault({"type": "card_removed", "card_uid": gone})
    new_truth = await stack.truth()
    added = set(new_truth["card_uids"]) - set(truth["card_uids"])
    assert len(added) == 1

    def cards(s: dict[str, list[tuple[dict[str, str], float]]]) -> set[str]:
        return {labels["card_uid"] for labels, _ in s["padtec_card_info"]}

    await stack.wait_for(lambda s: cards(s) == set(new_truth["card_uids"]))
    await stack.wait_for(
        lambda s: all(
            labels["card_uid"] != gone
            for labels, _ in s.get("padtec_power_dbm", []) + s.get("padtec_temperature_celsius", [])
        )
    )


async def test_reload_refuses_a_bad_file_and_keeps_running(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config_path = tmp_path / "config.yml"
    config_path.write_text("nms: [{name: sim, base_url: 'ftp://nowhere'}]\n")
    stack.exporter.reloadable.path = str(config_path)
    base = stack.metrics_url.removesuffix("/metrics")
    response = await stack.http.post(f"{base}/-/reload")
    assert response.status_code == 400
    assert "base_url" in response.text
    samples = await stack.scrape()
    assert value(samples, "padtec_exporter_config_last_reload_successful") == 0.0
    assert samples["padtec_card_info"]
    config_path.write_text(
        f"nms: [{{name: sim, base_url: '{stack.nms_url}', "
        "auth: {username: admin, password: admin}}]\n"
        f"web: {{listen_address: '{base.removeprefix('http://')}'}}\n"
    )
    response = await stack.http.post(f"{base}/-/reload")
    assert response.status_code == 200, response.text
    samples = await stack.scrape()
    assert value(samples, "padtec_exporter_config_last_reload_successful") == 1.0


async def test_a_reload_that_removes_an_nms_removes_its_series(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="sim") == 1.0)

    def of(samples: dict[str, list[tuple[dict[str, str], float]]], nms: str) -> set[str]:
        return {
            name
            for name, series in samples.items()
            for labels, _ in series
            if labels.get("nms") == nms
        }

    before = of(await stack.scrape(), "sim")
    assert {"padtec_nms_up", "padtec_nms_requests_total", "padtec_collection_runs_total"} <= before
    assert "padtec_card_info" in before
    config_path = tmp_path / "config.yml"
    base = stack.metrics_url.removesuffix("/metrics")
    config_path.write_text(
        f"nms: [{{name: other, base_url: '{stack.nms_url}', "
        "auth: {username: admin, password: admin}}]\n"
        f"web: {{listen_address: '{base.removeprefix('http://')}'}}\n"
    )
    stack.exporter.reloadable.path = str(config_path)
    response = await stack.http.post(f"{base}/-/reload")
    assert response.status_code == 200, response.text
    await stack.wait_for(lambda s: value(s, "padtec_nms_up", nms="other") == 1.0, timeout=30)
    await stack.wait_for(lambda s: not of(s, "sim"))
    assert not of(await stack.scrape(), "sim")


async def test_scrape_formats(stack: Stack) -> None:
    base = stack.metrics_url
    plain = await stack.http.get(base, headers={"Accept-Encoding": "identity"})
    assert plain.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    async with httpx2.AsyncClient() as client:  # httpx decodes multi-member gzip
        zipped = await client.get(base, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "padtec_card_info{" in zipped.text
    om = await stack.http.get(base, headers={"Accept": "application/openmetrics-text"})
    assert om.headers["Content-Type"].startswith("application/openmetrics-text")
    assert om.text.endswith("# EOF\n")
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    names = {family.name for family in text_string_to_metric_families(om.text)}  # type: ignore[no-untyped-call]
    assert "padtec_card_info" in names or "padtec_card" in names
    # What Prometheus sends: OpenMetrics first, gzip. One gzip stream of the same card lines.
    prom = await stack.http.get(
        base,
        headers={
            "Accept": "application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
            "Accept-Encoding": "gzip",
        },
    )
    assert prom.headers["Content-Type"].startswith("application/openmetrics-text")
    assert prom.headers["Content-Encoding"] == "gzip"
    assert prom.text.endswith("# EOF\n")
    parsed = list(text_string_to_metric_families(prom.text))  # type: ignore[no-untyped-call]
    cards = {
        s.labels["card_uid"] for f in parsed for s in f.samples if f.name == "padtec_card_info"
    }
    assert cards and cards == {
        line.split('card_uid="')[1].split('"')[0]
        for line in plain.text.splitlines()
        if line.startswith("padtec_card_info{")
    }
    landing = await stack.http.get(base.removesuffix("/metrics") + "/")
    assert "/metrics" in landing.text
