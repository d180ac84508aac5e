"""The doctor's checks against one NMS, in the order an operator needs their answers.

Every request goes through the project's NMS client (auth, retries, error wording) and every
page through its row decoder (units, dropped rows), so what the doctor sees is what the
exporter would see. Nothing here changes the NMS: GET requests and one login.
"""

from __future__ import annotations

import contextlib
import time
import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

import msgspec
from prometheus_client import CollectorRegistry

from padtec_exporter import tiers
from padtec_exporter.config import ExporterConfig, NmsConfig
from padtec_exporter.model import MalformedPage, RowDecoder, UnitResolver
from padtec_exporter.model.records import Alarm, Card, Measure
from padtec_exporter.model.rows import RawMeasure
from padtec_exporter.model.units import UNKNOWN_FAMILY
from padtec_exporter.model.values import parse_bool
from padtec_exporter.nms import AuthError, MalformedReply, NmsClient, NmsError, NmsMetrics, Page
from padtec_exporter.nms.clock import estimate_offset, parse_local

Status = Literal["ok", "warn", "fail", "info"]
T = TypeVar("T")
# A card whose newest measure is at most this much older than the NMS's newest timestamp is
# "fresh": measured against the NMS's own clock, no time zone needed.
FRESH = timedelta(minutes=5)
# Regions of the IANA database an operator would pick a zone from (not Etc/, US/, Brazil/...).
_REGIONS = (
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
)


@dataclass
class Check:
    name: str
    status: Status
    summary: str
    lines: list[str] = field(default_factory=list)  # details shown under the summary
    data: dict[str, Any] = field(default_factory=dict)  # the facts, for --json


@dataclass
class NmsReport:
    name: str
    url: str
    checks: list[Check] = field(default_factory=list)
    # Config keys the doctor recommends for this NMS, and unit rules for the top-level units:.
    nms_settings: dict[str, Any] = field(default_factory=dict)
    unit_rules: list[dict[str, Any]] = field(default_factory=list)
    unit_comments: list[str] = field(default_factory=list)

    @property
    def collection_works(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check


@dataclass
class _Seen:
    """What the sweeps delivered, raw and decoded (a view fetched again, e.g. after the
    client found a page-size cap, replaces its rows: raw measures are kept by uid)."""

    cards: list[Card] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    raw_measures: dict[str, RawMeasure] = field(default_factory=dict)
    alarms: list[Alarm] = field(default_factory=list)
    invalid: Counter[str] = field(default_factory=Counter)
    first_measure_rows: list[dict[str, Any]] = field(default_factory=list)


def _api_url(nms: NmsConfig) -> str:
    return "/".join(p for p in (nms.base_url.rstrip("/"), nms.api_prefix.strip("/")) if p)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def examine(config: ExporterConfig, nms: NmsConfig) -> NmsReport:
    """Run every check against ``nms``; a failed check that blocks the rest ends the pass."""
    report = NmsReport(name=nms.name, url=_api_url(nms))
    client = NmsClient(nms, NmsMetrics(CollectorRegistry()))
    seen = _Seen()
    decoder = RowDecoder(
        UnitResolver(config.units),
        timezone=_zone_name(nms) or "UTC",
        on_invalid=lambda resource, reason: seen.invalid.update([f"{resource}: {reason}"]),
        sentinels=frozenset(nms.sentinel_values),
    )
    async with client:
        if not await _auth(report, client, nms):
            return report
        counts = await _endpoints(report, client, config, nms, seen)
        if not report.collection_works:
            return report
        await _sweeps(report, client, config, decoder, seen, counts)
        _paging(report, client, nms, counts.get("measures/count"), seen)
        _api_build(report, seen)
        _clock(report, nms, client.server_time(), seen)
        _card_status(report, seen)
        _units(report, seen)
        _alarms(report, seen, counts.get("alarm/count"))
    return report


# -- authentication ---------------------------------------------------------------------------
async def _auth(report: NmsReport, client: NmsClient, nms: NmsConfig) -> bool:
    """The first request: a login (or the configured token) and one count."""
    login = not nms.auth.has_token_source()  # the client prefers a configured token
    started = time.perf_counter()
    try:
        await client.get_json("inventory/count")
    except NmsError as exc:
        what = "login failed" if login else "the first request with the configured token failed"
        if isinstance(exc, AuthError):
            what = "the NMS refused the credentials" if login else "the NMS refused the token"
        report.add(Check("auth", "fail", what, [str(exc)], {"error": str(exc)}))
        return False
    elapsed = _ms(time.perf_counter() - started)
    if login:
        summary = f"logged in as {nms.auth.username!r} (login and a first request: {elapsed})"
    else:
        summary = f"the configured token is accepted ({elapsed})"
    report.add(Check("auth", "ok", summary, data={"login": login}))
    return True


# -- endpoints --------------------------------------------------------------------------------
def _exporter_requests(config: ExporterConfig, nms: NmsConfig) -> list[tuple[str, dict[str, str]]]:
    """Every request shape the exporter makes: counts, then page 0 of each tier's filters."""
    size = {"page": "0", "size": str(nms.page_size)}
    shapes: list[tuple[str, dict[str, str]]] = [
        ("inventory/count", {}),
        ("measures/count", {}),
        ("alarm/count", {}),
    ]
    for tier_def in tiers.TIERS:
        endpoint, tier = tier_def.endpoint, config.collect.tiers[tier_def.name]
        if not tier.enabled and endpoint != tiers.INVENTORY:
            continue
        for filters in tier.filters or [{}]:
            shape = (endpoint, {**filters, **size})
            if shape not in shapes:
                shapes.append(shape)
    return shapes


def _shown(endpoint: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"GET {endpoint}" + (f"?{query}" if query else "")


async def _endpoints(
    report: NmsReport, client: NmsClient, config: ExporterConfig, nms: NmsConfig, seen: _Seen
) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    lines: list[str] = []
    results: list[dict[str, Any]] = []
    failed = 0
    for endpoint, params in _exporter_requests(config, nms):
        started = time.perf_counter()
        try:
            body = await client.get_json(endpoint, params)
        except NmsError as exc:
            failed += 1
            lines.append(f"FAIL {_shown(endpoint, params)}: {exc}")
            results.append({"endpoint": endpoint, "params": params, "error": str(exc)})
            continue
        elapsed = time.perf_counter() - started
        if endpoint.endswith("/count"):
            counts[endpoint] = body
            got = f"→ {msgspec.json.encode(body).decode()}"
        elif isinstance(body, list):
            got = f"→ {len(body)} row{'' if len(body) == 1 else 's'}"
            unfiltered = set(params) <= {"page", "size"}
            if endpoint == "measures/state" and (unfiltered or not seen.first_measure_rows):
                # Page 0 of the whole view (else of the first filter) shows shapes and paging.
                seen.first_measure_rows = [row for row in body if isinstance(row, dict)]
        else:
            failed += 1
            lines.append(f"FAIL {_shown(endpoint, params)}: not a JSON array")
            results.append({"endpoint": endpoint, "params": params, "error": "not an array"})
            continue
        lines.append(f"{_shown(endpoint, params):<60} {_ms(elapsed):>8}  {got}")
        results.append(
            {"endpoint": endpoint, "params": params, "seconds": round(elapsed, 4), "ok": True}
        )
    total = len(results)
    state_failed = any("error" in r and r["endpoint"].endswith("/state") for r in results)
    status: Status = "fail" if state_failed else ("warn" if failed else "ok")
    summary = f"{total - failed} of {total} requests the exporter makes answer"
    if failed and not state_failed:
        summary += " (a count endpoint failed: sweeps cannot be checked for completeness)"
    report.add(Check("endpoints", status, summary, lines, {"requests": results}))
    return counts


# -- paging -----------------------------------------------------------------------------------
def _paging(report: NmsReport, client: NmsClient, nms: NmsConfig, count: Any, seen: _Seen) -> None:
    """The page size the client settled on during the sweeps (it detects a silent cap)."""
    asked, used = nms.page_size, client.page_size
    served = len(seen.first_measure_rows)
    data: dict[str, Any] = {"asked": asked, "first_page": served, "cap": None}
    if used < asked:
        data["cap"] = used
        report.nms_settings["page_size"] = used
        summary = (
            f"the NMS cuts size={asked} to {used} rows per page, silently: "
            f"set page_size: {used} (the exporter adapts, after one extra request)"
        )
        report.add(Check("paging", "warn", summary, data=data))
    elif served >= asked:
        summary = f"pages of {asked} rows served in full (no cap up to page_size {asked})"
        report.add(Check("paging", "ok", summary, data=data))
    else:
        whole = f"{count} rows" if isinstance(count, int) else "the whole view"
        summary = f"the measures view fits one page ({whole}); a cap above {served} cannot be seen"
        report.add(Check("paging", "ok", summary, data=data))


# -- full sweeps against */count --------------------------------------------------------------
def _pager(
    decode: Callable[[bytes], tuple[list[T], int]], raw: Callable[[bytes], None] | None = None
) -> Callable[[bytes], Page[T]]:
    """The collector's page decoder (model errors become a retried malformed reply)."""

    def page(body: bytes) -> Page[T]:
        try:
            rows, raw_count = decode(body)
        except MalformedPage as exc:
            raise MalformedReply(str(exc)) from exc
        if raw is not None:
            raw(body)
        return Page(rows=rows, raw_count=raw_count)

    return page


def _keep_raw_measures(seen: _Seen) -> Callable[[bytes], None]:
    decode = msgspec.json.Decoder(list[RawMeasure]).decode

    def keep(body: bytes) -> None:
        # A page with broken rows: the decoder counted them; the analysis skips the page.
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            for row in decode(body):
                if isinstance(row.measureUid, str):
                    seen.raw_measures[row.measureUid] = row

    return keep


async def _sweep(report: NmsReport, what: str, run: Callable[[], Awaitable[list[T]]]) -> list[T]:
    try:
        return await run()
    except NmsError as exc:
        report.add(Check("sweep", "fail", f"the {what} sweep failed", [str(exc)]))
        return []


async def _sweeps(
    report: NmsReport,
    client: NmsClient,
    config: ExporterConfig,
    decoder: RowDecoder,
    seen: _Seen,
    counts: dict[str, Any],
) -> None:
    """The exporter's full sweeps (its paging, its decoder), compared with ``*/count``."""
    inventory = _pager(decoder.cards)
    measures = _pager(decoder.measures, _keep_raw_measures(seen))
    alarms = _pager(decoder.alarms)
    inventory_filters = config.collect.tiers["inventory"].filters or [{}]
    seen.cards = await _sweep(
        report, "inventory", lambda: _all(client, "inventory/state", inventory_filters, inventory)
    )
    seen.measures = await _sweep(
        report, "measures", lambda: client.fetch_all("measures/state", {}, measures)
    )
    seen.alarms = await _sweep(
        report,
        "active alarms",
        lambda: client.fetch_all("alarm/state", {"alarmIsActive": "true"}, alarms),
    )
    if not report.collection_works:
        return
    # Rows the exporter got (after dropping unusable ones) against what the NMS counts.
    compared: list[tuple[str, int, Any]] = [
        ("inventory", len(seen.cards), counts.get("inventory/count")),
        ("measures", len(seen.measures), counts.get("measures/count")),
    ]
    alarm_total = counts.get("alarm/count")
    if isinstance(alarm_total, dict):
        compared.append(("active alarms", len(seen.alarms), alarm_total.get("TOTAL")))
    parts, short, notes = [], [], []
    for what, got, counted in compared:
        if isinstance(counted, int) and not isinstance(counted, bool):
            parts.append(f"{what} {got} of {counted}")
            if got < counted and what == "active alarms":
                # ASSUMED meaning: whether TOTAL counts only active alarms is not documented.
                notes.append(f"alarm/count TOTAL {counted} ≠ {got} active alarms received")
            elif got < counted:
                short.append(f"{what}: {counted - got} rows counted but not received")
        else:
            parts.append(f"{what} {got} (no count)")
    lines = short + notes
    if seen.invalid:
        dropped = ", ".join(f"{k}: {n}" for k, n in sorted(seen.invalid.items()))
        lines.append(f"rows the decoder dropped: {dropped}")
    data = {
        "received": {w: g for w, g, _ in compared},
        "counted": {w: c for w, _, c in compared},
        "dropped": dict(seen.invalid),
    }
    if short:
        summary = "sweeps miss rows the NMS counts: " + ", ".join(parts)
        lines.append(
            "rows dropped as unusable, a page-size cap, or data that changed during the sweep: "
            "run doctor again; the exporter reports such sweeps as incomplete"
        )
        report.add(Check("counts", "warn", summary, lines, data))
    else:
        report.add(Check("counts", "ok", "complete sweeps: " + ", ".join(parts), lines, data))


async def _all(
    client: NmsClient,
    endpoint: str,
    filters: list[dict[str, str]],
    page: Callable[[bytes], Page[T]],
) -> list[T]:
    rows: list[T] = []
    for params in filters:
        rows += await client.fetch_all(endpoint, params, page)
    return rows


# -- API build --------------------------------------------------------------------------------
def _api_build(report: NmsReport, seen: _Seen) -> None:
    rows = seen.first_measure_rows
    if not rows:
        report.add(Check("api build", "info", "no measure rows to tell the API build from"))
        return
    fields = set().union(*(row.keys() for row in rows))
    new = {"measureKey", "measureSubKey", "cardIsUp", "cardUpdate", "updatedAt"}
    old = {"update", "locationCollector"}
    families = {str(row.get("cardFamily")) for row in rows}
    status: Status = "ok"
    if new <= fields:
        build = "2025-12"
        why = "rows carry measureKey, measureSubKey, cardIsUp, cardUpdate, updatedAt"
    elif old <= fields:
        build = "2025-02"
        why = "rows carry 'update' and locationCollector, no measureKey or cardIsUp"
    else:
        build, status = "unknown", "warn"
        why = "rows match neither known build: " + ", ".join(sorted(fields))
    lowercase = any(f.islower() for f in families)
    lines = [f"fields: {', '.join(sorted(fields))}"]
    if lowercase:
        lines.append("cardFamily in lowercase (normalised by the exporter)")
    data = {"build": build, "fields": sorted(fields)}
    report.add(Check("api build", status, f"{build} ({why})", lines, data))


# -- clock ------------------------------------------------------------------------------------
def _zone_name(nms: NmsConfig) -> str | None:
    zone = getattr(nms, "timezone", None)
    return zone if isinstance(zone, str) and zone else None


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _canonical_zones() -> list[str]:
    """The tz database's own zones (zone1970.tab), not its aliases; all zones without it."""
    for root in zoneinfo.TZPATH:
        table = Path(root) / "zone1970.tab"
        if table.is_file():
            lines = table.read_text(encoding="utf-8").splitlines()
            return sorted(
                {line.split("\t")[2] for line in lines if line and not line.startswith("#")}
            )
    return sorted(name for name in zoneinfo.available_timezones() if name.startswith(_REGIONS))


def zones_at(offset: timedelta, at: datetime, limit: int = 8) -> list[str]:
    """IANA zones whose UTC offset at ``at`` is ``offset`` (a few, for the operator to pick)."""
    found = []
    for name in _canonical_zones():
        if at.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() == offset:
            found.append(name)
    return found[:limit]


def _newest_local(seen: _Seen) -> datetime | None:
    newest: datetime | None = None
    for row in seen.raw_measures.values():
        stamp = parse_local(row.updatedAt if row.updatedAt is not None else row.update)
        if stamp is not None and (newest is None or stamp > newest):
            newest = stamp
    return newest


def _clock(report: NmsReport, nms: NmsConfig, server_now: datetime | None, seen: _Seen) -> None:
    """The NMS's UTC offset from its Date header against its newest timestamp (nms/clock.py)."""
    newest = _newest_local(seen)
    configured = _zone_name(nms)
    data: dict[str, Any] = {
        "server_time": server_now.isoformat() if server_now else None,
        "newest_timestamp": newest.isoformat(sep=" ") if newest else None,
        "configured_timezone": configured,
        "offset_seconds": None,
    }
    if server_now is None or newest is None:
        missing = "no Date header" if server_now is None else "no timestamp in the measures"
        summary = f"cannot work out the NMS's zone ({missing})"
        if configured is None:
            summary += ": set timezone to the NMS server's zone"
        report.add(Check("clock", "warn", summary, data=data))
        return
    offset = estimate_offset(server_now, newest)
    if offset is None:
        lag = server_now.replace(tzinfo=None) - newest
        summary = (
            f"the newest timestamp ({newest:%Y-%m-%d %H:%M:%S}) is {lag} away from the Date "
            "header: the measures are stale or the NMS clock is wrong; set timezone by hand"
        )
        report.add(Check("clock", "warn", summary, data=data))
        return
    data["offset_seconds"] = int(offset.total_seconds())
    zones = zones_at(offset, server_now)
    data["zones"] = zones
    summary = (
        f"NMS local time is {_offset_text(offset)} (Date header: {server_now:%H:%M:%S} UTC, "
        f"newest updatedAt {newest:%H:%M:%S})"
    )
    lines = [f"zones at {_offset_text(offset)} now: {', '.join(zones) or 'none'}"]
    status: Status = "ok"
    if configured is not None:
        zone_offset = server_now.astimezone(zoneinfo.ZoneInfo(configured)).utcoffset()
        if zone_offset != offset:
            status = "warn"
            shown = _offset_text(zone_offset or timedelta(0))
            hours = abs((offset - (zone_offset or timedelta(0))).total_seconds()) / 3600
            lines.append(
                f"timezone: {configured} ({shown}) disagrees: every timestamp would be read "
                f"{hours:g} h off; remove timezone (the exporter works the offset out) or set it "
                f"to one of the zones above"
            )
            if zones:
                report.nms_settings["timezone"] = zones[0]
        else:
            lines.append(f"timezone: {configured} agrees")
    else:
        lines.append("no timezone configured: the exporter uses this offset (it works it out)")
    report.add(Check("clock", status, summary, lines, data))


# -- card status ------------------------------------------------------------------------------
def _card_status(report: NmsReport, seen: _Seen) -> None:
    newest_by_card: dict[str, datetime] = {}
    down_flag: dict[str, bool] = {}
    for row in seen.raw_measures.values():
        uid = row.cardUid
        stamp = parse_local(row.updatedAt if row.updatedAt is not None else row.update)
        if not isinstance(uid, str) or stamp is None:
            continue
        if uid not in newest_by_card or stamp > newest_by_card[uid]:
            newest_by_card[uid] = stamp
        is_up = parse_bool(row.cardIsUp)  # the decoder's reading of the flag
        if is_up is False:
            down_flag[uid] = True
        elif is_up is True:
            down_flag.setdefault(uid, False)
    if not newest_by_card:
        report.add(Check("card status", "info", "no measure rows with a card and a timestamp"))
        return
    newest = max(newest_by_card.values())
    fresh = {uid for uid, at in newest_by_card.items() if newest - at <= FRESH}
    suspicious = sorted(uid for uid in fresh if down_flag.get(uid))
    data = {
        "cards_measured": len(newest_by_card),
        "fresh": len(fresh),
        "down_but_fresh": suspicious,
    }
    if not down_flag:
        summary = "rows carry no cardIsUp (2025-02 build): card status comes from the inventory"
        report.add(Check("card status", "info", summary, data=data))
        return
    if not suspicious:
        summary = f"no card with fresh measures says cardIsUp false ({len(fresh)} fresh cards)"
        report.add(Check("card status", "ok", summary, data=data))
        return
    summary = (
        f"{len(suspicious)} of {len(fresh)} cards with fresh measures say cardIsUp false "
        "(as the Dec 2025 capture shows on a working amplifier)"
    )
    lines = [
        "examples: " + ", ".join(suspicious[:5]) + (" …" if len(suspicious) > 5 else ""),
        "padtec_card_up reports cardIsUp as the NMS sends it: do not page on it alone here",
    ]
    report.add(Check("card status", "warn", summary, lines, data))


# -- units ------------------------------------------------------------------------------------
_GUESSES = (
    ("osnr", "osnr_db", 1.0),
    ("ber", "ber_ratio", 1.0),
    ("temp", "temperature_celsius", 1.0),
    ("gain", "gain_db", 1.0),
    ("volt", "voltage_volts", 1.0),
    ("curr", "current_amperes", 0.001),
    ("power", "power_dbm", 1.0),
)


def _guess(name: str, group: str) -> tuple[str, float, bool]:
    """A family for a measure the table does not map: (family, scale, guessed?)."""
    text = f"{name} {group}".lower()
    for word, family, scale in _GUESSES:
        if word in text:
            return family, scale, True
    return UNKNOWN_FAMILY, 1.0, False


def _units(report: NmsReport, seen: _Seen) -> None:
    unknown: dict[str, list[Measure]] = {}
    for measure in seen.measures:
        if measure.family == UNKNOWN_FAMILY:
            unknown.setdefault(measure.key, []).append(measure)
    total_keys = len({m.key for m in seen.measures})
    if not unknown:
        summary = f"all {total_keys} measure keys seen map to a unit"
        report.add(Check("units", "ok", summary, data={"keys": total_keys, "unknown": []}))
        return
    lines, listed = [], []
    for key in sorted(unknown, key=lambda k: (len(k), k)):
        series = unknown[key]
        sample = series[0]
        family, scale, guessed = _guess(sample.name, sample.group)
        rule: dict[str, Any] = {"key": int(key) if key.isdigit() else key, "family": family}
        if scale != 1.0:
            rule["scale"] = scale
        report.unit_rules.append(rule)
        hint = "guessed from the name: check it" if guessed else "unit unknown: pick a family"
        report.unit_comments.append(
            f"{sample.name!r} group {sample.group or '-'}, e.g. {sample.value:g}, "
            f"{len(series)} series; {hint}"
        )
        lines.append(
            f"key {key}: {sample.name!r} (group {sample.group or '-'}), {len(series)} series"
        )
        listed.append(
            {"key": key, "name": sample.name, "group": sample.group, "series": len(series)}
        )
    summary = (
        f"{len(unknown)} of {total_keys} measure keys are not in the unit table "
        f"(exposed as padtec_{UNKNOWN_FAMILY}): see the units: snippet below"
    )
    report.add(Check("units", "warn", summary, lines, {"keys": total_keys, "unknown": listed}))


# -- alarms -----------------------------------------------------------------------------------
def _alarms(report: NmsReport, seen: _Seen, count: Any) -> None:
    severities = Counter(alarm.severity for alarm in seen.alarms)
    groups = Counter(alarm.group for alarm in seen.alarms)

    def listed(counter: Counter[str]) -> str:
        return ", ".join(f"{k or '-'} {n}" for k, n in counter.most_common()) or "none"

    lines = [f"severities: {listed(severities)}", f"groups: {listed(groups)}"]
    if isinstance(count, dict):
        lines.append("alarm/count: " + ", ".join(f"{k} {v}" for k, v in count.items()))
    data = {"severities": dict(severities), "groups": dict(groups), "count": count}
    summary = f"{len(seen.alarms)} active alarms seen"
    report.add(Check("alarms", "info", summary, lines, data))
