"""Alarm history from Alertmanager webhooks; acknowledgement = an Alertmanager silence."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import msgspec


class WebhookAlert(msgspec.Struct, kw_only=True):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    startsAt: str
    endsAt: str = ""
    fingerprint: str = ""


class Webhook(msgspec.Struct, kw_only=True):
    version: str = "4"
    alerts: list[WebhookAlert]


def parse_webhook(body: bytes) -> Webhook:
    return msgspec.json.decode(body, type=Webhook)


def _time(text: str) -> datetime | None:
    if not text or text.startswith("0001-01-01"):
        return None
    # Go writes RFC 3339 with nanoseconds; Python keeps microseconds.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    return datetime.fromisoformat(text)


async def record(conn: Any, webhook: Webhook) -> int:
    rows = 0
    for alert in webhook.alerts:
        starts = _time(alert.startsAt)
        if starts is None:
            continue
        labels = alert.labels
        fingerprint = alert.fingerprint or json.dumps(labels, sort_keys=True)
        resolved = alert.status == "resolved"
        await conn.execute(
            "INSERT INTO alarms (fingerprint, starts_at, ends_at, status, alertname, severity, "
            "nms, site, card_uid, summary, labels, annotations) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (fingerprint, starts_at) DO UPDATE SET "
            "ends_at = EXCLUDED.ends_at, annotations = EXCLUDED.annotations, updated_at = now(), "
            "status = CASE WHEN EXCLUDED.status = 'CLEARED' THEN 'CLEARED' "
            "WHEN alarms.status = 'ACKNOWLEDGED' THEN 'ACKNOWLEDGED' ELSE 'ACTIVE' END",
            (
                fingerprint,
                starts,
                _time(alert.endsAt) if resolved else None,
                "CLEARED" if resolved else "ACTIVE",
                labels.get("alertname", ""),
                labels.get("severity", ""),
                labels.get("nms", ""),
                labels.get("site", ""),
                labels.get("card_uid", ""),
                alert.annotations.get("summary", ""),
                json.dumps(labels),
                json.dumps(alert.annotations),
            ),
        )
        rows += 1
    return rows


def silence_matches(matchers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """Alertmanager semantics: every matcher must match; a missing label matches as ""."""
    if not matchers:
        return False
    for matcher in matchers:
        value = labels.get(str(matcher.get("name", "")), "")
        wanted = str(matcher.get("value", ""))
        hit = re.fullmatch(wanted, value) is not None if matcher.get("isRegex") else value == wanted
        if not matcher.get("isEqual", True):
            hit = not hit
        if not hit:
            return False
    return True


async def acknowledge(conn: Any, silences: list[dict[str, Any]]) -> int:
    """Mark ACTIVE alarms covered by an active silence as ACKNOWLEDGED (who and when)."""
    active = [s for s in silences if s.get("status", {}).get("state") == "active"]
    if not active:
        return 0
    rows = await (
        await conn.execute("SELECT id, labels FROM alarms WHERE status = 'ACTIVE'")
    ).fetchall()
    done = 0
    for alarm_id, labels in rows:
        for silence in active:
            if silence_matches(silence.get("matchers", []), labels):
                await conn.execute(
                    "UPDATE alarms SET status = 'ACKNOWLEDGED', acknowledged_by = %s, "
                    "acknowledged_at = %s, updated_at = now() WHERE id = %s",
                    (
                        silence.get("createdBy", ""),
                        _time(str(silence.get("startsAt", ""))),
                        alarm_id,
                    ),
                )
                done += 1
                break
    return done
