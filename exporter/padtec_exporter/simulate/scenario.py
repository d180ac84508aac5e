"""Fault scenarios: faults applied (and cleared) at given seconds after the simulator starts.

```yaml
- at_seconds: 10
  fault: {type: pump_degradation, card_uid: "ROA1-HA-E29001-TR#210", target_dbm: 8}
  name: pump          # optional: a later step can clear it by this name
- at_seconds: 70
  clear: pump         # a step name, a fault id, or "all"
```
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Annotated, Any

import msgspec

from padtec_exporter.configfile import ConfigError, Strict, load_struct
from padtec_exporter.simulate.faults import CardFault, FaultError, parse_fault
from padtec_exporter.simulate.simulator import Simulator

log = logging.getLogger(__name__)


class Step(Strict):
    at_seconds: Annotated[float, msgspec.Meta(ge=0)]
    fault: dict[str, Any] | None = None
    clear: str | None = None
    name: str | None = None


def load_scenario(path: str | Path) -> list[Step]:
    """Read and check a scenario file: each step one fault or one clear, each fault valid."""
    steps = load_struct(path, list[Step])
    names = {step.name for step in steps if step.name}
    for i, step in enumerate(steps):
        where = f"{path}: step [{i}]"
        if (step.fault is None) == (step.clear is None):
            raise ConfigError(f"{where}: expected exactly one of 'fault' or 'clear'")
        if step.fault is not None:
            try:
                parse_fault(step.fault)
            except FaultError as exc:
                raise ConfigError(f"{where}: {exc}") from exc
        if step.clear is not None and not _clearable(step.clear, names):
            raise ConfigError(
                f"{where}: 'clear: {step.clear}' names no step; expected a step name, "
                "a fault id (f1, f2, ...) or 'all'"
            )
    return sorted(steps, key=lambda s: s.at_seconds)


def _clearable(target: str, names: set[str]) -> bool:
    return target == "all" or target in names or re.fullmatch(r"f[0-9]+", target) is not None


def check_cards(steps: list[Step], sim: Simulator, source: str) -> None:
    """Card faults must name cards of the generated network (its seed and size decide them)."""
    for step in steps:
        if step.fault is None:
            continue
        spec = parse_fault(step.fault)
        if isinstance(spec, CardFault) and sim.network.get(spec.card_uid) is None:
            raise ConfigError(
                f"{source}: step at {step.at_seconds:g} s: no card {spec.card_uid!r} in the "
                f"simulated network (seed {sim.config.seed}, {sim.config.sites} sites of "
                f"{sim.config.cards_per_site} cards)"
            )


async def play(sim: Simulator, steps: list[Step]) -> None:
    """Apply the steps on schedule (seconds from now); a refused step is logged and skipped."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    named: dict[str, str] = {}
    for step in steps:
        await asyncio.sleep(max(0.0, started + step.at_seconds - loop.time()))
        if step.fault is not None:
            try:
                fault = sim.add_fault(step.fault)
            except FaultError as exc:
                log.error("scenario step refused", extra={"fields": {"error": str(exc)}})
                continue
            if step.name:
                named[step.name] = fault.id
            log.info("scenario: fault on", extra={"fields": fault.describe()})
        elif step.clear == "all":
            sim.clear_all()
            log.info("scenario: all faults cleared")
        elif step.clear is not None:
            fault_id = named.get(step.clear, step.clear)
            if sim.clear_fault(fault_id):
                log.info("scenario: fault cleared", extra={"fields": {"id": fault_id}})
            else:
                log.warning("scenario: nothing to clear", extra={"fields": {"clear": step.clear}})
