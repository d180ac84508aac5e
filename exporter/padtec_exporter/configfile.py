"""Load a YAML file into a typed msgspec Struct, with errors that name the key.

Every component (exporter, simulator, store, bridge) keeps its own config Struct; this is the
one place that turns a file into such a Struct and a mistake into a readable message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

T = TypeVar("T")


class ConfigError(Exception):
    """A configuration file cannot be used; the message says where and why."""


def load_struct(path: Path | str, kind: type[T]) -> T:
    """Read YAML at ``path`` and convert it to ``kind`` (a msgspec Struct)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_struct(text, kind, source=str(path))


def parse_struct(text: str, kind: type[T], source: str = "<config>") -> T:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    return convert_struct(data, kind, source)


def convert_struct(data: Any, kind: type[T], source: str = "<config>") -> T:
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `int`, got `str` - at `$.nms[0].page_size`".
        raise ConfigError(f"{source}: {_readable(str(exc))}") from exc


def _readable(message: str) -> str:
    if " - at `$." in message:
        what, where = message.split(" - at `$.", 1)
        return f"key '{where.rstrip('`')}': {what}"
    if message.startswith("Object contains unknown field"):
        return message.replace("Object contains unknown field", "unknown key")
    return message


def read_secret(*, value: str | None, file: str | None, env: str | None, what: str) -> str | None:
    """Resolve a secret from (in order) a file, an environment variable or a literal value.

    The secret itself never appears in the error messages raised here.
    """
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: cannot read file {file}: {exc.strerror or exc}") from exc
    if env:
        found = os.environ.get(env)
        if found is None:
            raise ConfigError(f"{what}: environment variable {env} is not set")
        return found.strip()
    return value
