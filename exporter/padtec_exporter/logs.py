"""Structured logging set-up: plain text or one JSON object per line.

Extra fields are passed with ``logger.info("msg", extra={"fields": {...}})``. Secrets are never
passed to loggers in the first place; this module does not try to scrub them.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_RESERVED = set(vars(logging.makeLogRecord({})))
# Telegram's Bot API carries the bot token in the URL path: /bot<token>/sendMessage.
_URL_SECRETS = re.compile(r"/bot[^/\s]+/")


class UrlSecretFilter(logging.Filter):
    """Redacts tokens that some APIs put in URLs from third-party log lines (httpx2 logs URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/bot" in message:
            record.msg = _URL_SECRETS.sub("/bot<redacted>/", message)
            record.args = ()
        return True


def protect_http_client_logs() -> None:
    """Install UrlSecretFilter on httpx2's logger (idempotent)."""
    logger = logging.getLogger("httpx2")
    if not any(isinstance(f, UrlSecretFilter) for f in logger.filters):
        logger.addFilter(UrlSecretFilter())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update(_fields(record))
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = _fields(record)
        if fields:
            base += " " + " ".join(f"{k}={v}" for k, v in fields.items())
        return base


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    out: dict[str, Any] = dict(fields) if isinstance(fields, dict) else {}
    for key, value in vars(record).items():
        if key not in _RESERVED and key not in ("fields", "message", "asctime"):
            out[key] = value
    return out


def setup_logging(fmt: str = "text", level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx2 logs every request URL at INFO; keep it quiet (URLs carry no secrets, but noise).
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    # httpcore2 (under httpx2) and asyncio print dozens of lines per request at debug: --log.level
    # debug is for the exporter's own lines (a run per tier, NMS requests), not theirs.
    for noisy in ("httpcore2", "httpcore", "asyncio", "hpack", "charset_normalizer"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
    protect_http_client_logs()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
