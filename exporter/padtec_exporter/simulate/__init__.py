"""The NMS simulator: a faithful stand-in for the Padtec Smart API with scriptable faults."""

from padtec_exporter.simulate.config import SimulatorConfig
from padtec_exporter.simulate.server import SimulatorHandle, start_simulator
from padtec_exporter.simulate.simulator import Simulator

__all__ = ["Simulator", "SimulatorConfig", "SimulatorHandle", "start_simulator"]
