"""The notify bridge over real HTTP, with a local fake Twilio/Telegram (a recording server)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from padtec_exporter.configfile import convert_struct
from padtec_exporter.notify import Bridge, BridgeConfig
from padtec_exporter.web import serve_app
from tests.support.processes import free_port
from tests.support.sinks import WebhookSink, webhook_sink

TOKEN = "twilio-secret-token-123"
BOT = "telegram-bot-secret-456"


def payload(
    status: str = "firing",
    severity: str = "CRITICAL",
    cards: tuple[str, ...] = ("ROA1-HA-E29001-TR#374",),
) -> dict[str, Any]:
    alerts = [
        {
            "status": status,
            "fingerprint": f"fp-{card}",
            "labels": {
                "alertname": "PadtecPumpPowerOutOfRange",
                "severity": severity,
                "site": "POLARIS",
                "card_uid": card,
            },
            "annotations": {"summary": f"Pump power outside [12, 24] dBm on {card}"},
        }
        for card in cards
    ]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="PadtecPumpPowerOutOfRange"}',
        "status": status,
        "receiver": "noc-major",
        "groupLabels": {"alertname": "PadtecPumpPowerOutOfRange", "site": "POLARIS"},
        "commonLabels": {"site": "POLARIS", "severity": severity},
        "alerts": alerts,
    }


@pytest.fixture
def provider() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        yield sink


@pytest.fixture
async def bridge_url(provider: WebhookSink, tmp_path: Path) -> AsyncIterator[str]:
    (tmp_path / "twilio").write_text(TOKEN + "\n")
    (tmp_path / "bot").write_text(BOT + "\n")
    config = convert_struct(
        {
            "twilio": {
                "api_base": provider.url,
                "account_sid": "AC123",
                "auth_token_file": str(tmp_path / "twilio"),
                "sms_from": "+15550000000",
                "whatsapp_from": "+15550000001",
            },
            "telegram": {
                "api_base": provider.url,
                "bot_token_file": str(tmp_path / "bot"),
                "chat_ids": ["-10042"],
            },
            "sms_recipients": {
                "CRITICAL": ["+5511999990001", "+5511999990002"],
                "MAJOR": ["+5511999990001"],
            },
            "whatsapp_recipients": {"CRITICAL": ["+5511999990003"]},
            "rate_limit": {"per_minute": 1, "burst": 3},
        },
        BridgeConfig,
    )
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(Bridge(config).app(), listen)
    try:
        yield f"http://{listen}"
    finally:
        await runner.cleanup()


async def post(url: str, body: Any) -> httpx2.Response:
    async with httpx2.AsyncClient() as client:
        return await client.post(url, content=json.dumps(body).encode())


async def test_critical_alert_becomes_one_sms_per_recipient(
    bridge_url: str, provider: WebhookSink
) -> None:
    response = await post(f"{bridge_url}/alert/sms", payload())
    assert response.status_code == 200 and response.json() == {"sent": 2}
    sms = [r for r in provider.requests if r.path == "/2010-04-01/Accounts/AC123/Messages.json"]
    assert sorted(r.form()["To"] for r in sms) == ["+5511999990001", "+5511999990002"]
    form = sms[0].form()
    assert form["From"] == "+15550000000"
    assert form["Body"].startswith(
        "[CRITICAL] FIRING PadtecPumpPowerOutOfRange at POLARIS: ROA1-HA-E29001-TR#374"
    )
    auth = base64.b64decode(sms[0].headers["Authorization"].split()[1]).decode()
    assert auth == f"AC123:{TOKEN}"


async def test_whatsapp_and_telegram(bridge_url: str, provider: WebhookSink) -> None:
    assert (await post(f"{bridge_url}/alert/whatsapp", payload())).json() == {"sent": 1}
    whatsapp = provider.requests[-1].form()
    assert (whatsapp["To"], whatsapp["From"]) == (
        "whatsapp:+5511999990003",
        "whatsapp:+15550000001",
    )
    assert (await post(f"{bridge_url}/alert/telegram", payload())).json() == {"sent": 1}
    telegram = provider.requests[-1]
    assert telegram.path == f"/bot{BOT}/sendMessage"
    assert telegram.json()["chat_id"] == "-10042"


async def test_the_same_notification_twice_is_sent_once(
    bridge_url: str, provider: WebhookSink
) -> None:
    await post(f"{bridge_url}/alert/sms", payload(severity="MAJOR"))
    again = await post(f"{bridge_url}/alert/sms", payload(severity="MAJOR"))
    assert again.json() == {"sent": 0}
    resolved = await post(f"{bridge_url}/alert/sms", payload(status="resolved", severity="MAJOR"))
    assert resolved.json() == {"sent": 1}  # a new status is news
    assert "RESOLVED" in provider.requests[-1].form()["Body"]


async def test_rate_limit_per_recipient(bridge_url: str, provider: WebhookSink) -> None:
    sent = []
    for i in range(5):
        body = payload(severity="MAJOR", cards=(f"TM1200G-SA#{i}",))
        sent.append((await post(f"{bridge_url}/alert/sms", body)).json()["sent"])
    assert sent == [1, 1, 1, 0, 0]  # burst 3, then one a minute
    async with httpx2.AsyncClient() as client:
        metrics = (await client.get(f"{bridge_url}/metrics")).text
    assert 'padtec_notify_messages_total{channel="sms",result="rate_limited"} 2.0' in metrics


async def test_provider_failure_asks_alertmanager_to_retry(
    bridge_url: str, provider: WebhookSink
) -> None:
    provider.status = 500
    response = await post(f"{bridge_url}/alert/sms", payload())
    assert response.status_code == 503
    provider.status = 200
    assert (await post(f"{bridge_url}/alert/sms", payload())).json() == {"sent": 2}


async def test_garbage_is_refused_and_secrets_never_leak(
    bridge_url: str, provider: WebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await post(f"{bridge_url}/alert/sms", {"alerts": "nope"})).status_code == 400
    provider.status = 500
    await post(f"{bridge_url}/alert/telegram", payload())
    async with httpx2.AsyncClient() as client:
        metrics = (await client.get(f"{bridge_url}/metrics")).text
    for secret in (TOKEN, BOT):
        assert secret not in caplog.text and secret not in metrics
