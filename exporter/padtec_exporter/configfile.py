"""Load a YAML file into a typed msgspec Struct, with errors that name the key.

Every component (exporter, simulator, store, bridge) keeps its own config Struct; this is the
one place that turns a file into such a Struct and a mistake into a readable message, and
holds the running configuration of a server that reloads (``ReloadableConfig``).
"""

from __future__ import annotations

import logging
import os
import re
import time
import types
import typing
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar, Union

import msgspec
import yaml
from prometheus_client import CollectorRegistry, Gauge

T = TypeVar("T")
log = logging.getLogger(__name__)


class Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every config section: unknown keys are typos and are refused. A section that
    checks more than its types has ``check()``, raising ``Invalid`` with its own key path."""


class Invalid(Exception):
    """A value its type allows but the program cannot use: ``key`` is relative to the section
    that found it; each enclosing section prefixes its own key (``under``)."""

    def __init__(self, key: str, expected: str) -> None:
        super().__init__(f"key '{key}': {expected}")
        self.key = key
        self.expected = expected

    def under(self, prefix: str) -> Invalid:
        return Invalid(f"{prefix}.{self.key}" if self.key else prefix, self.expected)


class ConfigError(Exception):
    """A configuration file cannot be used; the message says where and why."""


def load_struct(path: Path | str, kind: type[T]) -> T:
    """Read YAML at ``path`` and convert it to ``kind`` (a msgspec Struct)."""
    return convert_struct(load_yaml(path), kind, source=str(path))


def load_yaml(path: Path | str) -> Any:
    """The YAML document at ``path`` ({} when empty); a problem is one ConfigError line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: {yaml_problem(exc)}") from exc
    return {} if data is None else data


def yaml_problem(exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: what and where (PyYAML's own text spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    if mark is not None:
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return f"not valid YAML: {problem}"


def convert_struct(data: Any, kind: type[T], source: str = "<config>") -> T:
    try:
        return msgspec.convert(data, kind, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says e.g. "Expected `int`, got `str` - at `$.nms[0].page_size`".
        message = _readable(str(exc))
        if message.startswith("key '") and "Invalid enum value" in message:
            valid = _literal_values(kind, message.split("'")[1])
            if valid:
                message += f"; valid values: {', '.join(map(str, valid))}"
        raise ConfigError(f"{source}: {message}") from exc


def _literal_values(kind: Any, path: str) -> tuple[Any, ...]:
    """The values a ``Literal`` field at ``path`` (e.g. ``log.level``) accepts, else ()."""
    current = kind
    for part in re.findall(r"\w+|\[[^\]]*\]", path):
        current = _without_none(current)
        if part.startswith("["):
            args = typing.get_args(current)
            current = args[-1] if args else Any  # list[X] → X, dict[K, V] → V
        else:
            try:
                current = typing.get_type_hints(current).get(part, Any)
            except TypeError:
                return ()
    current = _without_none(current)
    return typing.get_args(current) if typing.get_origin(current) is Literal else ()


def _without_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (Union, types.UnionType):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else hint
    return hint


def _readable(message: str) -> str:
    if " - at `$." in message:
        what, where = message.split(" - at `$.", 1)
        return f"key '{where.rstrip('`')}': {_plain(what)}"
    if message.startswith("Object contains unknown field"):
        return message.replace("Object contains unknown field", "unknown key")
    if message.startswith("Expected `object`"):
        return "expected a mapping of keys at the top level (key: value lines)"
    return _plain(message)


def _plain(what: str) -> str:
    """msgspec's "Expected `str`, got `bool`" in words; an enum lists its valid values."""
    if what.startswith("Invalid enum value"):
        return what
    return (
        what.replace("`object`", "a mapping")
        .replace("`array`", "a list")
        .replace("`str`", "a string")
        .replace("`int`", "an integer")
        .replace("`float`", "a number")
        .replace("`bool`", "true or false")
        .replace("`null`", "nothing")
    )


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


class ReloadableConfig(Generic[T]):
    """The running configuration of a server that reloads (blackbox_exporter's SafeConfig):
    a file that fails to load or validate is refused and the running configuration stays;
    ``<prefix>_config_last_reload_successful`` and ``..._success_timestamp_seconds`` say how
    the last reload went."""

    def __init__(
        self,
        current: T,
        path: Path | str | None,
        load: Callable[[Path | str | None], T],
        registry: CollectorRegistry,
        prefix: str,
    ) -> None:
        self.current = current
        self.path = path  # tests point a running server at another file
        self._load = load
        self._ok = Gauge(
            f"{prefix}_config_last_reload_successful",
            "1 when the last configuration reload worked.",
            registry=registry,
        )
        self._time = Gauge(
            f"{prefix}_config_last_reload_success_timestamp_seconds",
            "Unix time of the last successful configuration reload.",
            registry=registry,
        )
        self._succeeded()

    async def reload(self, apply: Callable[[T, T], Awaitable[None]]) -> tuple[bool, str]:
        """Load the file again and ``apply(old, new)``; (worked, one line for the caller)."""
        try:
            new = self._load(self.path)
        except ConfigError as exc:
            self._ok.set(0)
            log.error("configuration reload refused", extra={"fields": {"error": str(exc)}})
            return False, f"reload refused, old configuration kept: {exc}"
        old, self.current = self.current, new
        await apply(old, new)
        self._succeeded()
        return True, "configuration reloaded"

    def _succeeded(self) -> None:
        self._ok.set(1)
        self._time.set(time.time())
