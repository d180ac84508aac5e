"""Auth: login or configured token, renewal after a refusal, secrets kept out of sight."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from padtec_exporter.nms import AuthError
from tests.nms.fake_nms import FakeNms, Request, Response, Route, refused
from tests.nms.helpers import JWT, PASSWORD, STATE, Harness


def authorizations(route: Route) -> list[str]:
    return [call.request.headers["Authorization"] for call in route.calls]


async def test_logs_in_once_then_sends_the_token_it_got(nms: FakeNms) -> None:
    route = nms.get(STATE).respond(200, json=[])
    h = Harness()
    await h.client.get_json("measures/state")
    await h.client.get_json("measures/state")
    assert nms["login"].call_count == 1
    login = nms["login"].calls[0].request
    assert json.loads(login.content) == {
        "username": "monitor",
        "password": PASSWORD,
        "clientId": "padtec-exporter",
    }
    # The login answer already carries the scheme: it is not doubled.
    assert authorizations(route) == [f"Token {JWT}"] * 2
    assert h.requests("200", endpoint="admin/login") == 1.0


@pytest.mark.parametrize("configured", ["abc.def", "Token abc.def", "  abc.def\n"])
async def test_a_configured_token_is_sent_with_exactly_one_prefix(
    nms: FakeNms, configured: str
) -> None:
    route = nms.get(STATE).respond(200, json=[])
    await Harness(auth={"token": configured}).client.get_json("measures/state")
    assert authorizations(route) == ["Token abc.def"]
    assert not nms["login"].called


async def test_a_token_from_the_environment(nms: FakeNms, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PADTEC_TEST_NMS_TOKEN", "from-env")
    route = nms.get(STATE).respond(200, json=[])
    await Harness(auth={"token_env": "PADTEC_TEST_NMS_TOKEN"}).client.get_json("measures/state")
    assert authorizations(route) == ["Token from-env"]


async def test_the_token_file_is_read_again_after_a_401(nms: FakeNms, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("old\n")
    accepted = "Token old"
    route = nms.get(STATE).mock(
        side_effect=lambda req: Response(
            200 if req.headers["Authorization"] == accepted else 401, json=[]
        )
    )
    h = Harness(auth={"token_file": str(token_file)})
    await h.client.get_json("measures/state")
    accepted = "Token new"  # the operator rotates the token and the file
    token_file.write_text("new\n")
    await h.client.get_json("measures/state")
    assert authorizations(route) == ["Token old", "Token old", "Token new"]
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert h.failures("auth") == 0.0
    assert h.metric("padtec_nms_up") == 1.0


async def test_an_unchanged_token_file_is_refused_after_one_renewal(
    nms: FakeNms, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("stale\n")
    route = nms.get(STATE).respond(401)
    h = Harness(auth={"token_file": str(token_file)})
    with pytest.raises(AuthError):
        await h.client.get_json("measures/state")
    assert route.call_count == 2  # the request, then once more after re-reading the file
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert h.sleeps.waits == []


async def test_a_missing_token_file_is_an_auth_failure_naming_the_file(
    nms: FakeNms, tmp_path: Path
) -> None:
    route = nms.get(STATE).respond(200, json=[])
    h = Harness(auth={"token_file": str(tmp_path / "absent")})
    with pytest.raises(AuthError, match="absent"):
        await h.client.get_json("measures/state")
    assert not route.called
    assert h.failures("auth") == 1.0
    assert h.metric("padtec_nms_up") == 0.0


@pytest.mark.parametrize("refusal", [401, 403])
async def test_logs_in_again_after_a_refusal_without_spending_a_retry(
    nms: FakeNms, refusal: int
) -> None:
    nms["login"].mock(
        side_effect=[
            Response(200, json={"token": "Token jwt-1"}),
            Response(200, json={"token": "Token jwt-2"}),
        ]
    )

    def answer(request: Request) -> Response:
        if request.headers["Authorization"] == "Token jwt-2":
            return Response(200, json=[])
        return Response(refusal, json={"detail": "CSRF token missing or incorrect"})

    route = nms.get(STATE).mock(side_effect=answer)
    h = Harness(retry={"attempts": 1})  # one attempt: the renewal must not need a retry
    assert await h.client.get_json("measures/state") == []
    assert authorizations(route) == ["Token jwt-1", "Token jwt-2"]
    assert h.sleeps.waits == []
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert h.failures("auth") == 0.0
    assert h.metric("padtec_nms_up") == 1.0


async def test_refused_again_after_renewal_is_an_auth_failure_without_secrets(
    nms: FakeNms, caplog: pytest.LogCaptureFixture
) -> None:
    nms.get(STATE).respond(401, json={"error": "invalid token"})
    h = Harness()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught:
        await h.client.get_json("measures/state")
    assert nms["login"].call_count == 2  # renewed once, not per retry attempt
    for secret in (PASSWORD, JWT):
        assert secret not in str(caught.value)
        assert secret not in repr(caught.value)
        assert secret not in caplog.text
        assert all(secret not in str(getattr(r, "fields", "")) for r in caplog.records)
    assert h.failures("auth") == 1.0
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert h.metric("padtec_nms_up") == 0.0
    assert h.metric("padtec_circuit_breaker_open") == 0.0  # the NMS answered
    failures = [r for r in caplog.records if r.getMessage() == "nms request failed"]
    assert len(failures) == 1
    fields = failures[0].fields  # type: ignore[attr-defined]
    assert (fields["endpoint"], fields["reason"], fields["attempts"]) == (
        "measures/state",
        "auth",
        1,
    )


async def test_a_refused_login_is_an_auth_failure_without_the_password(
    nms: FakeNms, caplog: pytest.LogCaptureFixture
) -> None:
    nms["login"].respond(401, json={"error": "bad credentials"})
    route = nms.get(STATE).respond(200, json=[])
    h = Harness()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as caught:
        await h.client.get_json("measures/state")
    assert not route.called
    assert nms["login"].call_count == 1  # a refused login is not retried
    assert PASSWORD not in str(caught.value) and PASSWORD not in caplog.text
    assert h.failures("auth", endpoint="admin/login") == 1.0
    assert h.metric("padtec_nms_up") == 0.0


async def test_an_unreachable_login_is_retried(nms: FakeNms) -> None:
    nms["login"].mock(
        side_effect=[
            refused(),
            Response(200, json={"token": "Token jwt-1"}),
        ]
    )
    nms.get(STATE).respond(200, json=[5])
    h = Harness()
    assert await h.client.get_json("measures/state") == [5]
    assert len(h.sleeps.waits) == 1
    assert h.failures("connect", endpoint="admin/login") == 1.0


async def test_a_login_reply_without_a_token_is_malformed(nms: FakeNms) -> None:
    nms["login"].respond(200, json={"user": "monitor"})
    nms.get(STATE).respond(200, json=[])
    h = Harness(retry={"attempts": 2})
    with pytest.raises(Exception, match="carries no token"):
        await h.client.get_json("measures/state")
    assert nms["login"].call_count == 2
    assert h.failures("malformed", endpoint="admin/login") == 2.0


async def test_concurrent_refusals_renew_once(nms: FakeNms) -> None:
    nms["login"].mock(
        side_effect=[
            Response(200, json={"token": "Token jwt-1"}),
            Response(200, json={"token": "Token jwt-2"}),
            Response(200, json={"token": "Token jwt-3"}),
        ]
    )

    async def answer(request: Request) -> Response:
        await asyncio.sleep(0.01)  # keep the four requests in flight together
        refused = request.headers["Authorization"] == "Token jwt-1"
        return Response(401 if refused else 200, json=[])

    route = nms.get(STATE).mock(side_effect=answer)
    h = Harness(max_concurrency=4)
    await asyncio.gather(*(h.client.get_json("measures/state") for _ in range(4)))
    assert nms["login"].call_count == 2
    assert h.metric("padtec_nms_auth_renewals_total") == 1.0
    assert authorizations(route).count("Token jwt-1") == 4
    assert authorizations(route).count("Token jwt-2") == 4


async def test_login_failure_during_renewal_does_not_leave_a_dead_token(
    nms: FakeNms,
) -> None:
    nms["login"].mock(
        side_effect=[
            Response(200, json={"token": "Token jwt-1"}),
            Response(503),
            Response(200, json={"token": "Token jwt-2"}),
        ]
    )
    route = nms.get(STATE).mock(
        side_effect=lambda req: Response(
            200 if req.headers["Authorization"] == "Token jwt-2" else 401, json=[1]
        )
    )
    h = Harness()
    assert await h.client.get_json("measures/state") == [1]
    assert authorizations(route) == ["Token jwt-1", "Token jwt-2"]
    assert h.failures("http_5xx", endpoint="admin/login") == 1.0
