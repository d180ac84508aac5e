"""Fixtures of the NMS client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aioresponses import aioresponses

from tests.nms.fake_nms import FakeNms
from tests.nms.helpers import JWT, LOGIN


@pytest.fixture
def nms() -> Iterator[FakeNms]:
    """A faked NMS whose login always succeeds with JWT; tests add the other routes."""
    with aioresponses() as mocked:
        router = FakeNms(mocked)
        router.post(LOGIN, name="login").respond(200, json={"token": f"Token {JWT}"})
        yield router
