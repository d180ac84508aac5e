"""The registry of a server's own metrics (the exporter, the store, the notify bridge)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, disable_created_metrics


def new_registry() -> CollectorRegistry:
    """A registry whose counters and histograms expose no ``_created`` series: like
    node_exporter's, they would double the series and nothing reads them."""
    disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide switch
    return CollectorRegistry()
