"""Crossbar arrays of memristors: weight mapping, event-driven read with DAC/ADC/noise/IR drop,
pulse programming, write-verify and plasticity updates.

>>> import numpy as np
>>> from hwsnn.crossbar import Crossbar, CrossbarConfig, IOConfig
>>> from hwsnn.devices import get_preset
>>> xb = Crossbar(get_preset("sto"), n_in=64, n_out=10, config=CrossbarConfig(io=IOConfig(adc_bits=8)), seed=0)
>>> res = xb.program(np.full((64, 10), 0.3))           # write-verify; res.pulses, res.energy
>>> y = xb.read_currents(np.array([3, 17, 40]))        # event-driven read of three spiking rows
>>> n = xb.update(np.full((3, 10), 0.02), rows=np.array([3, 17, 40]))  # -> signed pulse counts
"""

from hwsnn.crossbar.config import (
    ADC_CLIP_MODES, DEPRESS_MODES, PULSE_SCHEMES, READ_NOISE_MODES, SCHEMES, CrossbarConfig, IOConfig, MappingConfig,
    UpdateConfig,
)
from hwsnn.crossbar.crossbar import Crossbar, ProgramResult
from hwsnn.crossbar.irdrop import ideal_currents, ir_drop_currents, ir_drop_nodal
from hwsnn.crossbar.periphery import adc_levels, adc_quantize, dac_quantize

__all__ = [
    "Crossbar", "ProgramResult", "CrossbarConfig", "MappingConfig", "IOConfig", "UpdateConfig", "SCHEMES",
    "ADC_CLIP_MODES", "READ_NOISE_MODES", "DEPRESS_MODES", "PULSE_SCHEMES", "ir_drop_currents", "ir_drop_nodal",
    "ideal_currents", "adc_quantize", "adc_levels", "dac_quantize",
]
