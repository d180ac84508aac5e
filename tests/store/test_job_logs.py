"""The store's job log lines read as fields, not Python reprs (issue 15, finding 8)."""

from __future__ import annotations

import logging

import pytest

from padtec_exporter.logs import TextFormatter
from tests.store.conftest import Receiver


async def test_job_lines_name_their_figures(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="padtec_exporter.store")
    await receiver.service.run_jobs()
    lines = [
        TextFormatter().format(r) for r in caplog.records if r.getMessage() == "store job done"
    ]
    assert len(lines) == 3, lines
    aggregate = next(line for line in lines if "job=aggregate" in line)
    assert "hourly_rows=0" in aggregate and "daily_rows=0" in aggregate
    assert not any("result=(" in line or "result=[" in line or "={" in line for line in lines)
