"""The exporter's exposition of the seeded demo network, line for line, against the golden file.

A changed family, label, HELP text or value format shows here as a diff. After an intended
change regenerate the file with `.venv/bin/python -m tests.support.golden` and review the diff.
"""

from __future__ import annotations

import difflib

from tests.support.golden import GOLDEN, golden_exposition, normalise


async def test_the_demo_exposition_matches_the_golden_file() -> None:
    served = await golden_exposition()
    expected = GOLDEN.read_text()
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            served.splitlines(keepends=True),
            "golden",
            "served",
            n=1,
        )
    )
    assert not diff, (
        "the exposition differs from tests/expose/demo-exposition.txt "
        "(intended? regenerate: .venv/bin/python -m tests.support.golden)\n" + diff[:6000]
    )


def test_normalising_keeps_what_the_golden_file_must_catch() -> None:
    raw = (
        "# HELP padtec_power_dbm Optical power in dBm.\n"
        "# TYPE padtec_power_dbm gauge\n"
        'padtec_power_dbm{nms="demo",measure_key="7260"} 17.25\n'
        "# HELP padtec_collection_duration_seconds Duration.\n"
        "# TYPE padtec_collection_duration_seconds gauge\n"
        'padtec_collection_duration_seconds{nms="demo",tier="alarms"} 0.0123\n'
        "# HELP process_open_fds Number of open file descriptors.\n"
        "# TYPE process_open_fds gauge\n"
        "process_open_fds 21.0\n"
    )
    lines = normalise(raw).splitlines()
    assert 'padtec_power_dbm{nms="demo",measure_key="7260"} 17.25' in lines
    assert 'padtec_collection_duration_seconds{nms="demo",tier="alarms"} <normalised>' in lines
    assert not any(line.startswith(("process_", "# HELP process_")) for line in lines)
