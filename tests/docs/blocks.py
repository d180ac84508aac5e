"""The fenced code blocks of a Markdown page, for tests that run or validate them."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(path: Path, language: str | None = None) -> list[str]:
    """The code of every fenced block of ``path`` (of ``language`` only, when given)."""
    text = path.read_text(encoding="utf-8")
    return [m[2] for m in FENCE.finditer(text) if language is None or m[1] == language]


def cli_lines(block: str) -> Iterator[tuple[list[str], list[str]]]:
    """(sub-command path, long options) of every ``padtec-exporter ...`` line of a shell block
    (continuations joined, the command found after ``|``, ``&&`` or ``$(``)."""
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0]
        for part in re.split(r"\||&&|\$\(", line):
            try:
                words = shlex.split(part)
            except ValueError:
                words = part.split()
            if not words or words[0] != "padtec-exporter":
                continue
            path = []
            for word in words[1:]:
                if word.startswith("-") or "/" in word or "." in word or word == ">":
                    break
                path.append(word)
            yield path, [w.split("=")[0] for w in words[1:] if w.startswith("--")]
