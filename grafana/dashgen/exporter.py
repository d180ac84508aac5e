"""Is the monitoring itself working? The exporter: NMS reachability, requests, collection
cycles, breaker, invalid data."""

from __future__ import annotations

from grafanalib.core import Dashboard, Panel

from dashgen.links import nms_var, query_var
from dashgen.panels import UP_MAPPING, Layout, dashboard, stat, steps, timeseries, value_mapping
from dashgen.queries import prom

N = 'nms=~"$nms"'
JOB = 'job=~"$job"'
RATE = "[$__rate_interval]"
BREAKER_MAPPING = value_mapping(("0", "closed", "green"), ("1", "OPEN", "red"))
RELOAD_MAPPING = value_mapping(("0", "FAILED", "red"), ("1", "ok", "green"))


def headline(at: Layout) -> list[Panel]:
    return [
        stat(
            "Exporter scraped",
            prom(f"min(up{{{JOB}}})"),
            "none",
            at(4, 4),
            steps(("red", None), ("green", 1)),
            "Whether Prometheus' last scrape of every exporter of the selected jobs worked.",
            UP_MAPPING,
        ),
        stat(
            "NMS reachable",
            prom(f"min(padtec_nms_up{{{N}}})"),
            "none",
            at(4, 4),
            steps(("red", None), ("green", 1)),
            "Whether the last request to every selected NMS succeeded.",
            UP_MAPPING,
        ),
        stat(
            "Circuit breaker",
            prom(f"max(padtec_circuit_breaker_open{{{N}}})"),
            "none",
            at(4, 4),
            steps(("green", None), ("red", 1)),
            "OPEN: requests to an NMS are refused until a probe succeeds.",
            BREAKER_MAPPING,
        ),
        stat(
            "Config reload",
            prom(f"min(padtec_exporter_config_last_reload_successful{{{JOB}}})"),
            "none",
            at(4, 4),
            steps(("red", None), ("green", 1)),
            "Whether the last reload (SIGHUP or POST /-/reload) of the configuration worked.",
            RELOAD_MAPPING,
        ),
        stat(
            "Series exposed",
            prom(f"sum(padtec_snapshot_series{{{JOB}}})"),
            "short",
            at(4, 4),
            steps(("blue", None)),
        ),
        stat(
            "Scrape duration",
            prom(f"max(scrape_duration_seconds{{{JOB}}})"),
            "s",
            at(4, 4),
            steps(("green", None), ("orange", 1)),
            "Slowest scrape of an exporter by Prometheus.",
        ),
    ]


def requests(at: Layout) -> list[Panel]:
    def latency(quantile: str) -> str:
        buckets = f"padtec_nms_request_duration_seconds_bucket{{{N}}}{RATE}"
        return f"histogram_quantile({quantile}, sum by (le, endpoint) (rate({buckets})))"

    return [
        timeseries(
            "NMS requests by endpoint and code",
            [
                prom(
                    f"sum by (endpoint, code) (rate(padtec_nms_requests_total{{{N}}}{RATE}))",
                    "{{endpoint}} {{code}}",
                )
            ],
            "reqps",
            at(8, 8),
        ),
        timeseries(
            "NMS request latency",
            [
                prom(latency("0.5"), "p50 {{endpoint}}", ref="A"),
                prom(latency("0.99"), "p99 {{endpoint}}", ref="B"),
            ],
            "s",
            at(8, 8),
        ),
        timeseries(
            "Failed attempts by reason",
            [
                prom(
                    f"sum by (reason) (rate(padtec_nms_request_failures_total{{{N}}}{RATE}))",
                    "{{reason}}",
                )
            ],
            "reqps",
            at(8, 8),
            description="timeout, connect, http_5xx, http_429, http_4xx, auth, malformed, "
            "too_large. Retries hide some of them from the collection.",
        ),
    ]


def cycles(at: Layout) -> list[Panel]:
    return [
        timeseries(
            "Collection duration by tier",
            [prom(f"padtec_collection_duration_seconds{{{N}}}", "{{nms}} {{tier}}")],
            "s",
            at(8, 8),
            description="Duration of the last run of each tier (inventory, critical, all_measures, "
            "alarms); compare with the tier's interval.",
        ),
        timeseries(
            "Time since last successful run",
            [
                prom(
                    f"time() - padtec_collection_last_success_timestamp_seconds{{{N}}}",
                    "{{nms}} {{tier}}",
                )
            ],
            "s",
            at(8, 8),
        ),
        timeseries(
            "Runs by result",
            [
                prom(
                    f"sum by (tier, result) (rate(padtec_collection_runs_total{{{N}}}{RATE}))",
                    "{{tier}} {{result}}",
                )
            ],
            "ops",
            at(8, 8),
            description="skipped: the previous run of the tier was still busy.",
        ),
        timeseries(
            "Invalid rows by reason",
            [
                prom(
                    f"sum by (resource, reason) (rate(padtec_rows_invalid_total{{{N}}}{RATE}))",
                    "{{resource}} {{reason}}",
                )
            ],
            "rps",
            at(8, 8),
            description="Rows or values dropped because the NMS sent something unusable.",
        ),
        timeseries(
            "Token renewals",
            [
                prom(
                    f"sum by (nms) (rate(padtec_nms_auth_renewals_total{{{N}}}{RATE}))",
                    "{{nms}}",
                )
            ],
            "ops",
            at(8, 8),
            description="Token re-reads or re-logins after a 401/403.",
        ),
        timeseries(
            "Exposition render time",
            [prom(f"padtec_snapshot_render_duration_seconds{{{JOB}}}", "{{instance}}")],
            "s",
            at(8, 8),
            description="Time to render a new snapshot into the text served on /metrics.",
        ),
    ]


def build() -> Dashboard:
    at = Layout()
    job = query_var(
        "job", "label_values(padtec_exporter_build_info, job)", "Job", multi=True, include_all=True
    )
    return dashboard(
        "exporter",
        "Padtec / Exporter health",
        "Is the monitoring itself working: NMS reachability, requests, collection cycles, "
        "breaker, invalid data.",
        [*headline(at), *requests(at), *cycles(at)],
        [job, nms_var()],
    )
