"""The store and the notify bridge answer ``/`` with a page naming their endpoints (they
answered 404, issue 15 finding 5)."""

from __future__ import annotations

from pathlib import Path

import httpx2

from padtec_exporter.notify import Bridge, BridgeConfig
from padtec_exporter.notify.config import TelegramConfig
from padtec_exporter.store import StoreConfig, StoreService
from padtec_exporter.web import serve_app
from tests.support.processes import free_port


async def page_of(app_runner_listen: str) -> httpx2.Response:
    async with httpx2.AsyncClient(timeout=5) as http:
        return await http.get(f"http://{app_runner_listen}/")


async def test_bridge_landing_page(tmp_path: Path) -> None:
    token = tmp_path / "bot"
    token.write_text("123:secret-bot-token\n")
    bridge = Bridge(
        BridgeConfig(telegram=TelegramConfig(bot_token_file=str(token), chat_ids=["1"]))
    )
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(bridge.app(), listen)
    try:
        response = await page_of(listen)
    finally:
        await runner.cleanup()
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    for path in ("/alert/sms", "/alert/whatsapp", "/alert/telegram", "/metrics", "/healthz"):
        assert path in response.text
    assert "Channels: telegram" in response.text and "secret-bot-token" not in response.text


async def test_store_landing_page_while_waiting_for_the_database() -> None:
    service = StoreService(StoreConfig(), f"host=127.0.0.1 port={free_port()} user=x password=pw9")
    listen = f"127.0.0.1:{free_port()}"
    runner = await serve_app(service.app(), listen)
    try:
        response = await page_of(listen)
    finally:
        await runner.cleanup()
        await service.close()
    assert response.status_code == 200
    assert "/api/v1/write" in response.text and "/api/v1/alerts" in response.text
    assert "waiting for the database" in response.text and "pw9" not in response.text
