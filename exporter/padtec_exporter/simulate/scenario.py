"""Fault scenarios: a YAML list of faults (or clears) applied at given seconds after start.

```yaml
- at_seconds: 10
  fault: {type: pump_degradation, card_uid: "ROA1-HA-E29001-TR#101", target_dbm: 8}
  name: pump            # optional: lets a later step clear it
- at_seconds: 70
  clear: pump           # a step name, or "all"
```
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import msgspec

from padtec_exporter.configfile import ConfigError, load_struct
from padtec_exporter.simulate.faults import FaultError
from padtec_exporter.simulate.simulator import Simulator

log = logging.getLogger(__name__)


class Step(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    at_seconds: float
    fault: dict[str, Any] | None = None
    clear: str | None = None
    name: str | None = None


def load_scenario(path: str | Path) -> list[Step]:
    steps = load_struct(path, list[Step])
    for i, step in enumerate(steps):
        if (step.fault is None) == (step.clear is None):
            raise ConfigError(f"{path}: key '[{i}]': expected exactly one of 'fault' or 'clear'")
    return sorted(steps, key=lambda s: s.at_seconds)


async def play(sim: Simulator, steps: list[Step]) -> None:
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
        elif step.clear is not None:
            sim.clear_fault(named.get(step.clear, step.clear))
