"""Alertmanager webhook → SMS and WhatsApp (Twilio) and Telegram, rate limited, deduplicated."""

from padtec_exporter.notify.bridge import Bridge, BridgeMetrics
from padtec_exporter.notify.config import BridgeConfig

__all__ = ["Bridge", "BridgeConfig", "BridgeMetrics"]
