"""The fenced code blocks of a Markdown page, for tests that run or validate them."""

from __future__ import annotations

import re
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path, language: str | None = None) -> list[str]:
    """The code of every fenced block of ``path`` (of ``language`` only, when given)."""
    text = path.read_text(encoding="utf-8")
    return [m[2] for m in FENCE.finditer(text) if language is None or m[1] == language]
