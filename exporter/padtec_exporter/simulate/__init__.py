"""The NMS simulator: a faithful stand-in for the Padtec Smart API with scriptable faults.

Modules: ``catalog`` (card models and measures, seen vs assumed), ``network`` (generator),
``dynamics`` (healthy values), ``faults`` (fault objects), ``alarms``, ``simulator`` (state and
fault effects), ``encoding`` and ``views`` (rows and pages), ``chaos`` (auth and transport
faults), ``api`` and ``control`` (handlers), ``scenario``, ``server`` (start_simulator).
"""

from padtec_exporter.simulate.config import SimulatorConfig, SimulatorUser
from padtec_exporter.simulate.server import SimulatorHandle, start_simulator
from padtec_exporter.simulate.simulator import Simulator

__all__ = ["Simulator", "SimulatorConfig", "SimulatorHandle", "SimulatorUser", "start_simulator"]
