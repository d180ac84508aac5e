"""Alarm history from Alertmanager webhooks; acknowledgement = an Alertmanager silence."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec


class WebhookError(ValueError):
    """The body is not an Alertmanager webhook (version 4) we can record."""


class WebhookAlert(msgspec.Struct, kw_only=True):
    status: str
    labels: dict[str, str]
    annotations: dict[str, str] = msgspec.field(default_factory=dict)
    startsAt: str
    endsAt: str = ""
    fingerprint: str = ""


class Webhook(msgspec.Struct, kw_only=True):
    version: str
    alerts: list[WebhookAlert]


@dataclass(frozen=True)
class WebhookLimits:
    """Label values are indexed (site) or identify the alert: kept short. Annotations are
    free text: longer, still bounded."""

    label_bytes: int = 1024
    annotation_bytes: int = 16 * 1024


# C0 controls but tab, newline and carriage return, and DEL: NUL cannot be stored in PostgreSQL
# text or jsonb at all; the others have no business in an alarm and break terminals.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(text: str, limit: int, altered: dict[str, int]) -> str:
    if _CONTROL.search(text):
        text = _CONTROL.sub("\ufffd", text)
        altered["control_characters"] = altered.get("control_characters", 0) + 1
    data = text.encode()
    if len(data) > limit:
        text = data[:limit].decode("utf-8", "ignore") + "…[cut]"
        altered["too_long"] = altered.get("too_long", 0) + 1
    return text


def _sanitised(alert: WebhookAlert, limits: WebhookLimits, altered: dict[str, int]) -> WebhookAlert:
    """The alert with control characters replaced (U+FFFD) and over-long values cut."""
    label, note = limits.label_bytes, limits.annotation_bytes
    return msgspec.structs.replace(
        alert,
        labels={
            _clean(k, label, altered): _clean(v, label, altered) for k, v in alert.labels.items()
        },
        annotations={
            _clean(k, label, altered): _clean(v, note, altered)
            for k, v in alert.annotations.items()
        },
        fingerprint=_clean(alert.fingerprint, 256, altered),
    )


class AlarmRow(msgspec.Struct, frozen=True, kw_only=True):
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    status: str  # ACTIVE or CLEARED (ACKNOWLEDGED comes from silences)
    labels: dict[str, str]
    annotations: dict[str, str]


def parse_webhook(
    body: bytes, limits: WebhookLimits | None = None, altered: dict[str, int] | None = None
) -> list[AlarmRow]:
    """One row per alert; WebhookError names what is wrong (answered 400, nothing stored).
    Values are sanitised first (``altered`` counts what was changed, by reason)."""
    try:
        webhook = msgspec.json.decode(body, type=Webhook)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise WebhookError(str(exc)[:200]) from None
    if webhook.version != "4":
        raise WebhookError(f"webhook version {webhook.version[:20]!r}: only version 4 is read")
    limits = limits or WebhookLimits()
    changes: dict[str, int] = {} if altered is None else altered
    webhook.alerts = [_sanitised(alert, limits, changes) for alert in webhook.alerts]
    rows = []
    for alert in webhook.alerts:
        if alert.status not in ("firing", "resolved"):
            raise WebhookError(f"alert status {alert.status[:40]!r} is neither firing nor resolved")
        starts = nms_start(alert.annotations) or parse_time(alert.startsAt)
        if starts is None:
            raise WebhookError("alert without startsAt")
        resolved = alert.status == "resolved"
        rows.append(
            AlarmRow(
                # Alertmanager always sends a fingerprint; the labels identify the alert too.
                fingerprint=alert.fingerprint or json.dumps(alert.labels, sort_keys=True),
                starts_at=starts,
                ends_at=parse_time(alert.endsAt) if resolved else None,
                status="CLEARED" if resolved else "ACTIVE",
                labels=alert.labels,
                annotations=alert.annotations,
            )
        )
    return rows


# Alerts forwarding an NMS alarm carry its start at the NMS (Unix seconds; "0" when unknown),
# set by the PadtecNmsAlarm rule: the history then shows when the alarm began, not when
# Prometheus first saw it (days later after a restart or a new deployment).
NMS_START_ANNOTATION = "nms_alarm_start"


def nms_start(annotations: dict[str, str]) -> datetime | None:
    """The NMS's start time of a forwarded alarm, or None (absent, 0 or not a number)."""
    try:
        seconds = float(annotations.get(NMS_START_ANNOTATION, ""))
    except ValueError:
        return None
    if not 0 < seconds < 4e9:  # 0: the exporter had no start time; beyond 2096: garbage
        return None
    return datetime.fromtimestamp(seconds, tz=UTC)


def parse_time(text: str) -> datetime | None:
    """RFC 3339 as Go writes it (nanoseconds, Z); Go's zero time means 'not set'."""
    if not text or text.startswith("0001-01-01"):
        return None
    # Python keeps microseconds: cut the extra digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.replace("Z", "+00:00"))
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise WebhookError(f"not an RFC 3339 time: {text[:40]!r}") from None
    if when.tzinfo is None:
        raise WebhookError(f"time without a zone: {text[:40]!r}")
    return when


async def record(conn: Any, rows: list[AlarmRow]) -> int:
    for row in rows:
        labels = row.labels
        await conn.execute(
            "INSERT INTO alarms (fingerprint, starts_at, ends_at, status, alertname, severity, "
            "nms, site, card_uid, summary, labels, annotations) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            # CLEARED is final: a late retry of the firing notification must not reopen it
            # (a new occurrence has a new startsAt).
            "ON CONFLICT (fingerprint, starts_at) DO UPDATE SET "
            "ends_at = COALESCE(EXCLUDED.ends_at, alarms.ends_at), "
            "annotations = EXCLUDED.annotations, updated_at = now(), "
            "status = CASE WHEN 'CLEARED' IN (EXCLUDED.status, alarms.status) THEN 'CLEARED' "
            "WHEN alarms.status = 'ACKNOWLEDGED' THEN 'ACKNOWLEDGED' ELSE 'ACTIVE' END",
            (
                row.fingerprint,
                row.starts_at,
                row.ends_at,
                row.status,
                labels.get("alertname", ""),
                labels.get("severity", ""),
                labels.get("nms", ""),
                labels.get("site", ""),
                labels.get("card_uid", ""),
                row.annotations.get("summary", ""),
                json.dumps(labels),
                json.dumps(row.annotations),
            ),
        )
    return len(rows)


def silence_matches(matchers: list[dict[str, Any]], labels: dict[str, str]) -> bool:
    """Alertmanager semantics: every matcher must match; a missing label matches as "";
    regexes are anchored at both ends. A regex Python cannot compile matches nothing."""
    if not matchers:
        return False
    for matcher in matchers:
        value = labels.get(str(matcher.get("name", "")), "")
        wanted = str(matcher.get("value", ""))
        if matcher.get("isRegex"):
            try:
                hit = re.fullmatch(wanted, value) is not None
            except re.error:
                return False
        else:
            hit = value == wanted
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
        silence = next((s for s in active if silence_matches(s.get("matchers", []), labels)), None)
        if silence is None:
            continue
        await conn.execute(
            "UPDATE alarms SET status = 'ACKNOWLEDGED', acknowledged_by = %s, "
            "acknowledged_at = %s, updated_at = now() WHERE id = %s",
            (silence.get("createdBy", ""), _silence_start(silence), alarm_id),
        )
        done += 1
    return done


def _silence_start(silence: dict[str, Any]) -> datetime | None:
    try:
        return parse_time(str(silence.get("startsAt", "")))
    except WebhookError:
        return None
