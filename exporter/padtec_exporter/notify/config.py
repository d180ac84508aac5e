"""Configuration of the notify bridge. Secrets come from files or the environment only."""

from __future__ import annotations

import msgspec

from padtec_exporter.configfile import ConfigError, Strict, read_secret


class TwilioConfig(Strict, kw_only=True):
    api_base: str = "https://api.twilio.com"
    account_sid: str
    auth_token_file: str | None = None
    auth_token_env: str | None = None
    sms_from: str | None = None
    whatsapp_from: str | None = None

    def auth_token(self) -> str:
        token = read_secret(
            value=None, file=self.auth_token_file, env=self.auth_token_env, what="twilio.auth_token"
        )
        if not token:
            raise ConfigError("twilio: set auth_token_file or auth_token_env")
        return token


class TelegramConfig(Strict):
    api_base: str = "https://api.telegram.org"
    bot_token_file: str | None = None
    bot_token_env: str | None = None
    chat_ids: list[str] = msgspec.field(default_factory=list)

    def bot_token(self) -> str:
        token = read_secret(
            value=None, file=self.bot_token_file, env=self.bot_token_env, what="telegram.bot_token"
        )
        if not token:
            raise ConfigError("telegram: set bot_token_file or bot_token_env")
        return token


class RateLimitConfig(Strict):
    # Token bucket per recipient: `burst` messages at once, refilled at `per_minute`.
    per_minute: float = 6.0
    burst: int = 10


class BridgeConfig(Strict):
    listen_address: str = "0.0.0.0:9789"
    twilio: TwilioConfig | None = None
    telegram: TelegramConfig | None = None
    # Recipients per severity; an alert group goes to the recipients of its highest severity.
    sms_recipients: dict[str, list[str]] = msgspec.field(default_factory=dict)
    whatsapp_recipients: dict[str, list[str]] = msgspec.field(default_factory=dict)
    rate_limit: RateLimitConfig = msgspec.field(default_factory=RateLimitConfig)
    # The same group, status and alerts sent again within this window is dropped.
    dedup_window_seconds: float = 300.0
    max_message_chars: int = 480
    request_timeout_seconds: float = 10.0
