"""Fixtures of the NMS client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_httpx2  # noqa: F401 - registers respx's "httpcore2" mocker, which the client needs
import respx

from tests.nms.helpers import JWT, LOGIN


@pytest.fixture
def nms() -> Iterator[respx.MockRouter]:
    """A faked NMS whose login always succeeds with JWT; tests add the other routes.

    respx patches httpcore by default; the client speaks httpx2, whose pool is httpcore2's.
    """
    with respx.mock(assert_all_called=False, using="httpcore2") as router:
        router.post(LOGIN, name="login").respond(200, json={"token": f"Token {JWT}"})
        yield router
