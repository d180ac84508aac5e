"""Fixtures of the NMS client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from tests.nms.fake_nms import FakeNms
from tests.nms.helpers import JWT, LOGIN, Harness


@pytest.fixture
def nms() -> Iterator[FakeNms]:
    """A faked NMS whose login always succeeds with JWT; tests add the other routes."""
    with aioresponses() as mocked:
        router = FakeNms(mocked)
        router.post(LOGIN, name="login").respond(200, json={"token": f"Token {JWT}"})
        yield router


@pytest.fixture(autouse=True)
async def close_harness_clients() -> AsyncIterator[None]:
    yield
    while Harness.made:
        await Harness.made.pop().close()
