"""The render loop: one render per publication, off the event loop; scrapes read the latest.

Collectors only signal that they published (``wanted``); a burst of publications while a
render runs costs one more render, not one per publication.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Gauge

from padtec_exporter.collect import NmsData
from padtec_exporter.expose.render import EMPTY, Exposition, Renderer

log = logging.getLogger(__name__)


class RenderLoop:
    def __init__(
        self,
        registry: CollectorRegistry,
        datasets: Callable[[], Sequence[NmsData]],
        on_duplicates: Callable[[str, int], None],
    ) -> None:
        self._datasets = datasets
        self._on_duplicates = on_duplicates
        self._renderer = Renderer()
        self.exposition: Exposition = EMPTY
        # True once a render included a complete inventory: /readyz turns ready.
        self.ready = False
        self._wanted = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._series = Gauge(
            "padtec_snapshot_series", "Series in the latest rendered snapshot.", registry=registry
        )
        self._render_seconds = Gauge(
            "padtec_snapshot_render_duration_seconds",
            "Time the latest snapshot took to render.",
            registry=registry,
        )

    def want(self, _data: NmsData | None = None) -> None:
        """Ask for a render (a collector published, or the set of NMSs changed)."""
        self._wanted.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="render")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            datasets = list(self._datasets())
            try:
                exposition = await asyncio.to_thread(self._renderer.render, datasets)
            except Exception:  # a bug here must not freeze /metrics on old data silently
                log.exception("rendering the exposition failed; serving the previous one")
                continue
            replaced = [self.exposition]
            self.exposition = exposition
            await asyncio.to_thread(release, replaced)
            self._series.set(exposition.series)
            self._render_seconds.set(exposition.render_seconds)
            for nms, count in exposition.duplicates.items():
                self._on_duplicates(nms, count)
            self.ready = self.ready or any(d.inventory_ok for d in datasets)


def release(replaced: list[Exposition]) -> None:
    """Free a replaced exposition a chunk at a time (in a worker thread): freeing its 1.5
    million references at once would hold the interpreter, and every scrape, for ~30 ms."""
    exposition = replaced.pop()
    chunks = list(exposition.parts)
    del exposition  # the chunks are now only referenced here (unless a scrape still sends it)
    while chunks:
        chunks.pop()
