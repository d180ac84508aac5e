"""The exporter's own metrics never use labels Prometheus owns (job, instance)."""

from __future__ import annotations

from padtec_exporter.config import config_from_data
from padtec_exporter.exporter import Exporter

OWNED_BY_PROMETHEUS = {"job", "instance"}


async def test_no_exporter_metric_uses_job_or_instance() -> None:
    exporter = Exporter(config_from_data({"nms": {"name": "core", "auth": {"token": "t"}}}))
    exporter._start_nms(exporter.config.nms[0])  # registers the collector's and client's label sets
    try:
        labelled = {
            sample.name: set(sample.labels)
            for family in exporter.registry.collect()
            for sample in family.samples
        }
        assert "padtec_collection_runs_total" in labelled
        assert labelled["padtec_collection_runs_total"] >= {"nms", "tier", "result"}
        clashing = {name for name, labels in labelled.items() if labels & OWNED_BY_PROMETHEUS}
        assert clashing == set()
    finally:
        await exporter.close()
