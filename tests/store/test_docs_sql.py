"""Every SQL example of docs/store.md runs against the store's schema and finds the data the
store wrote through its own endpoints."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from padtec_exporter.store.remote_write import encode_write_request
from tests.store.conftest import Receiver, sql
from tests.store.test_jobs_and_alarms import webhook
from tests.store.test_remote_write import INFO, PUMP, post
from tests.support.processes import REPO

DOC = (REPO / "docs" / "store.md").read_text()
EXAMPLES = re.findall(r"```sql\n(.*?)```", DOC, re.DOTALL)
NOW = datetime.now(UTC)


def ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def series_at_polaris(labels: dict[str, str], **changes: str) -> dict[str, str]:
    return {**labels, "site": "POLARIS", **changes}


async def feed(receiver: Receiver) -> None:
    hours = [NOW - timedelta(hours=h) for h in range(0, 60, 2)]
    osnr = series_at_polaris(PUMP, __name__="padtec_osnr_db", measure="OSNR", port="Line 1")
    line_in = series_at_polaris(PUMP, measure="IN Line IN Power", measure_key="7255", port="")
    card_up = {k: PUMP[k] for k in ("nms", "card_uid", "job", "instance")}
    yesterday_noon = (NOW - timedelta(days=1)).replace(hour=12, minute=0)
    body = encode_write_request(
        [
            (series_at_polaris(PUMP), [(ms(t), 18.0) for t in hours]),
            (osnr, [(ms(t), 20.0 + i % 3) for i, t in enumerate(hours)]),
            (line_in, [(ms(t), -3.0) for t in hours]),
            (series_at_polaris(INFO), [(ms(NOW), 1.0)]),
            (
                {**card_up, "__name__": "padtec_card_up", "site": "POLARIS"},
                [(ms(yesterday_noon), 0.0)],
            ),
        ]
    )
    assert (await post(receiver.url, body)).status_code == 204
    alert = webhook("firing")
    alert["alerts"][0]["startsAt"] = (NOW - timedelta(days=3)).isoformat()  # type: ignore[index]
    async with httpx2.AsyncClient() as client:
        response = await client.post(f"{receiver.url}/api/v1/alerts", json=alert)
        assert response.status_code == 200
    await receiver.service.run_jobs(NOW + timedelta(days=1))  # today complete: daily rows too


def as_plain_sql(example: str) -> str:
    """Grafana's macros, as Grafana expands them for a 30-day dashboard."""
    example = re.sub(r"\$__timeFilter\(([\w.]+)\)", r"\1 > now() - interval '30 days'", example)
    return example.replace("$site", "POLARIS")


def test_the_doc_has_the_examples_the_issue_asks_for() -> None:
    assert len(EXAMPLES) >= 4
    assert any("measurements_daily" in e and "osnr" in e for e in EXAMPLES)
    assert any("FROM alarms" in e for e in EXAMPLES)
    assert any("$__timeFilter" in e for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.split("\n")[0][:40] for e in EXAMPLES])
async def test_sql_example_returns_rows(receiver: Receiver, dsn: str, example: str) -> None:
    await feed(receiver)
    assert sql(dsn, as_plain_sql(example)), example
