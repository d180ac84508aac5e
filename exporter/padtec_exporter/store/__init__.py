"""Long retention: Prometheus remote-write and Alertmanager webhooks → PostgreSQL/TimescaleDB."""

from padtec_exporter.store.config import StoreConfig
from padtec_exporter.store.service import StoreService

__all__ = ["StoreConfig", "StoreService"]
