"""The bridge's HTTP app: receive Alertmanager webhooks, send SMS/WhatsApp/Telegram messages.

Answers 5xx when a provider could not be reached so that Alertmanager retries; a rate-limited
or duplicate message is dropped on purpose (and counted), not retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import httpx2
import msgspec
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from padtec_exporter.logs import protect_http_client_logs
from padtec_exporter.notify import messages
from padtec_exporter.notify.config import BridgeConfig
from padtec_exporter.notify.limits import RecentKeys, TokenBuckets
from padtec_exporter.registry import new_registry
from padtec_exporter.web.landing import landing

log = logging.getLogger(__name__)
LANDING_PATHS = [
    ("POST /alert/sms", "Alertmanager webhook: SMS via Twilio"),
    ("POST /alert/whatsapp", "Alertmanager webhook: WhatsApp via Twilio"),
    ("POST /alert/telegram", "Alertmanager webhook: Telegram bot"),
    ("/metrics", "the bridge's own metrics"),
    ("/healthz", "liveness"),
]


class BridgeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "padtec_notify_messages",
            "Messages by channel and result (sent, failed, deduplicated, rate_limited).",
            ["channel", "result"],
            registry=registry,
        )
        self.webhooks = Counter(
            "padtec_notify_webhooks",
            "Alertmanager webhooks received by result (accepted, invalid, retry).",
            ["result"],
            registry=registry,
        )


class SendFailed(Exception):
    pass


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx2.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.registry = new_registry()
        self.metrics = BridgeMetrics(self.registry)
        self._buckets = TokenBuckets(config.rate_limit.per_minute, config.rate_limit.burst, clock)
        self._recent = RecentKeys(config.dedup_window_seconds, clock)
        protect_http_client_logs()  # Telegram URLs carry the bot token
        self._http = httpx2.AsyncClient(timeout=config.request_timeout_seconds, transport=transport)
        # Secrets are read once at start so a missing file fails the start, not a page.
        self._twilio_token = config.twilio.auth_token() if config.twilio else None
        self._telegram_token = config.telegram.bot_token() if config.telegram else None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/alert/sms", self._handler("sms"))
        app.router.add_post("/alert/whatsapp", self._handler("whatsapp"))
        app.router.add_post("/alert/telegram", self._handler("telegram"))
        app.router.add_get("/metrics", self.metrics_page)
        app.router.add_get("/healthz", self.healthz)
        channels = [c for c in ("twilio", "telegram") if getattr(self.config, c) is not None]
        app.router.add_get(
            "/",
            landing(
                "Padtec notify bridge",
                LANDING_PATHS,
                lambda: f"Channels: {', '.join(channels) or 'none'}.",
            ),
        )
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        await self._http.aclose()

    async def metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    def _handler(self, channel: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            try:
                notification = messages.parse(await request.read())
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                self.metrics.webhooks.labels("invalid").inc()
                return web.Response(status=400, text=f"not an Alertmanager webhook: {exc}\n")
            try:
                sent = await self.deliver(channel, notification)
            except SendFailed as exc:
                self.metrics.webhooks.labels("retry").inc()
                # Said by the bridge itself (was visible only in httpcore's debug noise).
                log.warning(
                    "delivery failed; Alertmanager will retry",
                    extra={"fields": {"channel": channel, "error": str(exc)}},
                )
                return web.Response(status=503, text=f"{exc}\n")
            self.metrics.webhooks.labels("accepted").inc()
            return web.json_response({"sent": sent})

        return handle

    def recipients(self, channel: str, notification: messages.Notification) -> list[str]:
        if channel == "telegram":
            return list(self.config.telegram.chat_ids) if self.config.telegram else []
        table = self.config.sms_recipients if channel == "sms" else self.config.whatsapp_recipients
        return list(table.get(messages.severity(notification), []))

    async def deliver(self, channel: str, notification: messages.Notification) -> int:
        body = messages.text(notification, self.config.max_message_chars)
        sent, failures = 0, []
        for recipient in self.recipients(channel, notification):
            key = messages.dedup_key(channel, recipient, notification)
            if self._recent.seen(key):
                self.metrics.messages.labels(channel, "deduplicated").inc()
                continue
            if not self._buckets.take(f"{channel}:{recipient}"):
                self.metrics.messages.labels(channel, "rate_limited").inc()
                log.warning(
                    "message dropped by the rate limit",
                    extra={"fields": {"channel": channel, "recipient": recipient}},
                )
                continue
            try:
                await self._send(channel, recipient, body)
            except SendFailed as exc:
                self.metrics.messages.labels(channel, "failed").inc()
                failures.append(str(exc))
                continue
            self._recent.remember(key)
            self.metrics.messages.labels(channel, "sent").inc()
            sent += 1
        if failures:
            raise SendFailed("; ".join(failures))
        return sent

    async def _send(self, channel: str, recipient: str, body: str) -> None:
        try:
            if channel == "telegram":
                response = await self._telegram(recipient, body)
            else:
                response = await self._twilio(channel, recipient, body)
        except httpx2.HTTPError as exc:
            raise SendFailed(f"{channel}: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise SendFailed(f"{channel}: provider answered HTTP {response.status_code}")

    async def _twilio(self, channel: str, recipient: str, body: str) -> httpx2.Response:
        twilio = self.config.twilio
        if twilio is None or self._twilio_token is None:
            raise SendFailed(f"{channel}: no twilio section in the bridge config")
        sender = twilio.sms_from if channel == "sms" else twilio.whatsapp_from
        if not sender:
            raise SendFailed(f"{channel}: no sender number configured")
        if channel == "whatsapp":
            sender, recipient = f"whatsapp:{sender}", f"whatsapp:{recipient}"
        url = (
            f"{twilio.api_base.rstrip('/')}/2010-04-01/Accounts/{twilio.account_sid}/Messages.json"
        )
        return await self._http.post(
            url,
            data={"To": recipient, "From": sender, "Body": body},
            auth=(twilio.account_sid, self._twilio_token),
        )

    async def _telegram(self, chat_id: str, body: str) -> httpx2.Response:
        telegram = self.config.telegram
        assert telegram is not None and self._telegram_token is not None
        url = f"{telegram.api_base.rstrip('/')}/bot{self._telegram_token}/sendMessage"
        return await self._http.post(url, json={"chat_id": chat_id, "text": body})
