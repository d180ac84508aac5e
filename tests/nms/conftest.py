"""Fixtures of the NMS client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from tests.nms.helpers import JWT, LOGIN


@pytest.fixture
def nms() -> Iterator[respx.MockRouter]:
    """A faked NMS whose login always succeeds with JWT; tests add the other routes."""
    with respx.mock(assert_all_called=False) as router:
        router.post(LOGIN, name="login").respond(200, json={"token": f"Token {JWT}"})
        yield router
