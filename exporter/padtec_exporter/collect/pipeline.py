"""One NMS end to end: its client, decoder, collector and self-metric series.

The exporter holds one pipeline per configured NMS; a reload starts, stops or forgets whole
pipelines, so nothing of a removed NMS lingers on /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence

from padtec_exporter.collect.collector import NmsCollector
from padtec_exporter.collect.data import NmsData
from padtec_exporter.collect.metrics import CollectMetrics
from padtec_exporter.config import CollectConfig, NmsConfig
from padtec_exporter.model import RowDecoder, UnitResolver, UnitRule
from padtec_exporter.nms import NmsClient, NmsMetrics
from padtec_exporter.nms.clock import ClockTracker


class NmsPipeline:
    def __init__(
        self,
        config: NmsConfig,
        collect: CollectConfig,
        units: Sequence[UnitRule],
        nms_metrics: NmsMetrics,
        collect_metrics: CollectMetrics,
        on_publish: Callable[[NmsData], None],
    ) -> None:
        self.config = config
        self._nms_metrics = nms_metrics
        self._collect_metrics = collect_metrics
        self.client = NmsClient(config, nms_metrics)
        decoder = RowDecoder(
            UnitResolver(list(units)),
            timezone=config.timezone,
            on_invalid=collect_metrics.invalid_counter(config.name),
            sentinels=frozenset(config.sentinel_values),
        )
        self.collector = NmsCollector(
            config.name,
            self.client,
            decoder,
            collect,
            collect_metrics,
            on_publish,
            nms_clock=ClockTracker(config.timezone),
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def data(self) -> NmsData:
        return self.collector.data

    def start(self) -> None:
        self._task = asyncio.create_task(self.collector.run(), name=f"collect-{self.name}")

    async def stop(self) -> None:
        """Stop collecting and close the client; the NMS's series stay (a restart goes on)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    def forget(self) -> None:
        """Remove every self-metric series of this NMS (it left the configuration)."""
        self._nms_metrics.forget(self.name)
        self._collect_metrics.forget(self.name)
