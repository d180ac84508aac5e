"""A simulator in the test's event loop and an aiohttp client logged in to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from padtec_exporter.simulate import SimulatorConfig, SimulatorHandle, start_simulator


@dataclass
class Api:
    handle: SimulatorHandle
    http: aiohttp.ClientSession
    token: str

    @property
    def api(self) -> str:
        return f"{self.handle.url}/v1"

    async def get(self, path: str, **params: str) -> tuple[aiohttp.ClientResponse, Any]:
        async with self.http.get(
            f"{self.api}/{path}", params=params, headers={"Authorization": self.token}
        ) as response:
            return response, await response.json(content_type=None)

    async def all_rows(self, view: str, size: int = 7, **params: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 0
        while True:
            _, body = await self.get(view, page=str(page), size=str(size), **params)
            rows += body
            if len(body) < size:
                return rows
            page += 1

    async def fault(self, fault: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(f"{self.handle.control_url}/faults", json=fault) as response:
            assert response.status == 201, await response.text()
            result: dict[str, Any] = await response.json(content_type=None)
            return result


@asynccontextmanager
async def simulator_api(**config: Any) -> AsyncIterator[Api]:
    settings: dict[str, Any] = {"seed": 3, "sites": 2, "cards_per_site": 4, **config}
    handle = await start_simulator(SimulatorConfig(**settings), "127.0.0.1:0")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
            login = {"username": "admin", "password": "admin", "clientId": "tests"}
            async with http.post(f"{handle.url}/v1/admin/login", json=login) as response:
                token = (await response.json(content_type=None))["token"]
            yield Api(handle=handle, http=http, token=token)
    finally:
        await handle.close()
