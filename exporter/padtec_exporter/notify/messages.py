"""Alertmanager webhook payload (version 4) → one short text per alert group."""

from __future__ import annotations

import hashlib

import msgspec

SEVERITY_ORDER = ["CRITICAL", "MAJOR", "MINOR", "WARNING", "UNKNOWN"]


class Alert(msgspec.Struct, kw_only=True):
    status: str = "firing"
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    fingerprint: str = ""


class Notification(msgspec.Struct, kw_only=True):
    version: str = "4"
    groupKey: str = ""
    status: str = "firing"
    receiver: str = ""
    groupLabels: dict[str, str] = msgspec.field(default_factory=dict)
    commonLabels: dict[str, str] = msgspec.field(default_factory=dict)
    alerts: list[Alert] = msgspec.field(default_factory=list)


def parse(body: bytes) -> Notification:
    """Raises msgspec.ValidationError/DecodeError for anything that is not a v4 payload."""
    return msgspec.json.decode(body, type=Notification)


def severity(notification: Notification) -> str:
    found = {a.labels.get("severity", "UNKNOWN").upper() for a in notification.alerts}
    for level in SEVERITY_ORDER:
        if level in found:
            return level
    return "UNKNOWN"


def text(notification: Notification, limit: int) -> str:
    firing = [a for a in notification.alerts if a.status == "firing"]
    shown = firing or notification.alerts
    status = "FIRING" if firing else "RESOLVED"
    first = shown[0] if shown else Alert()
    name = first.labels.get("alertname", "alert")
    site = notification.commonLabels.get("site") or first.labels.get("site", "?")
    cards = sorted({a.labels.get("card_uid", "") for a in shown} - {""})
    head = f"[{severity(notification)}] {status} {name} at {site}"
    if cards:
        head += f": {', '.join(cards[:5])}" + (f" +{len(cards) - 5}" if len(cards) > 5 else "")
    summary = first.annotations.get("summary", "")
    message = f"{head}. {summary}" if summary and status == "FIRING" else head
    return message if len(message) <= limit else message[: limit - 1] + "…"


def dedup_key(channel: str, recipient: str, notification: Notification) -> str:
    prints = ",".join(sorted(f"{a.fingerprint}:{a.status}" for a in notification.alerts))
    raw = f"{channel}|{recipient}|{notification.groupKey}|{notification.status}|{prints}"
    return hashlib.sha256(raw.encode()).hexdigest()
