"""The exporter itself: NMS reachability, requests, cycles, breaker, invalid rows."""

from __future__ import annotations

from grafanalib.core import Dashboard

from dashgen.common import Layout, dashboard, nms_var, prom, stat, steps, timeseries

N = 'nms=~"$nms"'


def build() -> Dashboard:
    at = Layout()
    panels = [
        stat(
            "NMS reachable",
            prom(f"min(padtec_nms_up{{{N}}})"),
            "bool_yes_no",
            at(6, 4),
            steps(("red", None), ("green", 1)),
        ),
        stat(
            "Circuit breaker",
            prom(f"max(padtec_circuit_breaker_open{{{N}}})"),
            "bool_on_off",
            at(6, 4),
            steps(("green", None), ("red", 1)),
            "On: requests refused until a probe succeeds.",
        ),
        stat(
            "Series exposed",
            prom("sum(padtec_snapshot_series)"),
            "short",
            at(6, 4),
            steps(("blue", None)),
        ),
        stat(
            "Scrape duration",
            prom('max(scrape_duration_seconds{job="padtec"})'),
            "s",
            at(6, 4),
            steps(("green", None), ("orange", 1)),
        ),
        timeseries(
            "NMS requests by endpoint and code",
            [
                prom(
                    f"sum by (endpoint, code) (rate(padtec_nms_requests_total{{{N}}}[$__rate_interval]))",
                    "{{endpoint}} {{code}}",
                )
            ],
            "reqps",
            at(12, 8),
        ),
        timeseries(
            "NMS request latency",
            [
                prom(
                    f"histogram_quantile(0.5, sum by (le, endpoint) (rate("
                    f"padtec_nms_request_duration_seconds_bucket{{{N}}}[$__rate_interval])))",
                    "p50 {{endpoint}}",
                    ref="A",
                ),
                prom(
                    f"histogram_quantile(0.99, sum by (le, endpoint) (rate("
                    f"padtec_nms_request_duration_seconds_bucket{{{N}}}[$__rate_interval])))",
                    "p99 {{endpoint}}",
                    ref="B",
                ),
            ],
            "s",
            at(12, 8),
        ),
        timeseries(
            "Failed attempts by reason",
            [
                prom(
                    f"sum by (reason) (rate(padtec_nms_request_failures_total{{{N}}}[$__rate_interval]))"
                    f" or sum(rate(padtec_nms_requests_total{{{N}}}[$__rate_interval])) * 0",
                    "{{reason}}",
                )
            ],
            "reqps",
            at(12, 8),
        ),
        timeseries(
            "Collection duration by job",
            [prom(f"padtec_collection_duration_seconds{{{N}}}", "{{nms}} {{job}}")],
            "s",
            at(12, 8),
        ),
        timeseries(
            "Time since last successful run",
            [
                prom(
                    f"time() - padtec_collection_last_success_timestamp_seconds{{{N}}}",
                    "{{nms}} {{job}}",
                )
            ],
            "s",
            at(12, 8),
        ),
        timeseries(
            "Runs by result",
            [
                prom(
                    f"sum by (job, result) (increase(padtec_collection_runs_total{{{N}}}[$__rate_interval]))",
                    "{{job}} {{result}}",
                )
            ],
            "none",
            at(12, 8),
        ),
        timeseries(
            "Invalid rows by reason",
            [
                prom(
                    f"sum by (resource, reason) (rate(padtec_rows_invalid_total{{{N}}}[$__rate_interval]))"
                    f" or sum(rate(padtec_nms_requests_total{{{N}}}[$__rate_interval])) * 0",
                    "{{resource}} {{reason}}",
                )
            ],
            "rps",
            at(12, 8),
        ),
        timeseries(
            "Render time of the exposition",
            [prom("padtec_snapshot_render_duration_seconds", "render")],
            "s",
            at(12, 8),
        ),
    ]
    return dashboard(
        "exporter",
        "Padtec / Exporter health",
        "Is the monitoring itself "
        "working: NMS reachability, requests, cycles, breaker, invalid data.",
        panels,
        [nms_var()],
    )
