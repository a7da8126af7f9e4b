"""The crossbar side of the learning core's interface, as plain Python transaction handlers.

One implementation serves both runs: the cocotb crossbar agent (``sim/tb_learning_core.py``)
calls these handlers from its coroutines, and the golden co-simulation
(:func:`hwsnn.cosim.run.run_golden`) calls them directly, so both drive an identical
:class:`~hwsnn.crossbar.Crossbar` with an identical command stream and the device conductances
can be compared exactly (the device model is deterministic given seed and command stream).

Mapping (documented in ``docs/hardware/learning_core.md``):

- weight ``(row i, col j)`` is crossbar weight ``(i, j)`` (word line ``i``, output ``j``), stored
  as the crossbar's mapping says (default: a differential pair, only ``G+`` programmed for the
  non-negative weights of this core);
- a program command ``(i, j, SET|RESET, n)`` is ``n`` SET or RESET pulses on that weight
  (:meth:`~hwsnn.crossbar.Crossbar.apply_pulses`); commands are queued and applied as one batch
  before the next read and at the end of each timestep (no read happens in between, and the core
  never addresses a weight twice in one timestep, so the batch equals applying them one by one);
- a read request with row mask ``r`` is :meth:`~hwsnn.crossbar.Crossbar.read_currents` of the
  rows set in ``r`` (binary inputs), whose ADC output ``lo + c*step`` is returned as the integer
  codes ``c`` (``io.adc_bits`` must equal the core's ``ADC_BITS``);
- the output beat closes the timestep: pending commands are applied, then the array clock
  advances by ``dt`` seconds (drift, volatile relaxation).
"""

from __future__ import annotations

import numpy as np

from hwsnn.crossbar import Crossbar, CrossbarConfig
from hwsnn.errors import ConfigError
from hwsnn.spec.core import OP_SET, LearningCoreParams

__all__ = ["CrossbarAgent"]


class CrossbarAgent:
    """Device-side handlers of the core's read and program channels.

    Parameters
    ----------
    core : LearningCoreParams
        The core being served (``M`` rows, ``N`` columns, ``ADC_BITS``).
    device : DeviceParams
        Device physics.
    crossbar : CrossbarConfig
        Mapping and periphery; ``io.adc_bits`` must equal ``core.ADC_BITS`` and the ADC must saturate.
    seed : int
        Seed of the device array and the crossbar's own draws.
    dt : float
        Seconds of array time per timestep.
    """

    def __init__(self, core: LearningCoreParams, device, crossbar: CrossbarConfig, seed: int = 0, dt: float = 1e-3):
        if crossbar.io.adc_bits != core.ADC_BITS:
            raise ConfigError("crossbar.io.adc_bits", f"must equal core.ADC_BITS={core.ADC_BITS}, not {crossbar.io.adc_bits}")
        if crossbar.io.adc_clip != "saturate":
            raise ConfigError("crossbar.io.adc_clip", "must be 'saturate' (codes are ADC_BITS wide)")
        if not dt >= 0:
            raise ConfigError("dt", f"must be >= 0 s, not {dt}")
        self.core = core
        self.xbar = Crossbar(device, n_in=core.M, n_out=core.N, config=crossbar, seed=seed)
        self.dt = float(dt)
        lo, hi = self.xbar.adc_range
        self._lo = lo
        self._step = (hi - lo) / (2**core.ADC_BITS - 1)
        self._max = 2**core.ADC_BITS - 1
        self._n_set = np.zeros((core.M, core.N), np.int64)
        self._n_reset = np.zeros((core.M, core.N), np.int64)
        self._pending = 0
        self.reads = 0
        self.commands = 0
        self.pulses = 0
        self.timesteps = 0

    # -- transaction handlers -----------------------------------------------------------------
    def read(self, rows_mask) -> np.ndarray:
        """Answer a read request (row mask, ``(M,)`` 0/1 or an ``M``-bit int) with ``(N,)`` ADC codes."""
        self.flush()
        rows = self._rows(rows_mask)
        y = self.xbar.read_currents(rows)
        self.reads += 1
        codes = np.rint((y - self._lo) / self._step).astype(np.int64)
        return np.clip(codes, 0, self._max)

    def program(self, row: int, col: int, set_: int, count: int) -> None:
        """Accept one program command (queued; see the module docstring)."""
        if self._n_set[row, col] or self._n_reset[row, col]:
            self.flush()  # a second command for the same weight: keep the order exact
        if set_ == OP_SET:
            self._n_set[row, col] = count
        else:
            self._n_reset[row, col] = count
        self._pending += 1
        self.commands += 1
        self.pulses += int(count)

    def program_many(self, cmds) -> None:
        """Accept a ``(K, 4)`` array of commands ``(row, col, set, count)`` in order."""
        for r, c, s, n in np.asarray(cmds, dtype=np.int64):
            self.program(int(r), int(c), int(s), int(n))

    def end_timestep(self) -> None:
        """The output beat: apply pending commands, then advance the array clock by ``dt``."""
        self.flush()
        self.xbar.advance(self.dt)
        self.timesteps += 1

    def flush(self) -> None:
        if self._pending:
            self.xbar.apply_pulses(self._n_set, self._n_reset)
            self._n_set[:] = 0
            self._n_reset[:] = 0
            self._pending = 0

    # -- observation --------------------------------------------------------------------------
    def conductances(self) -> np.ndarray:
        """Noise-free conductances of every device (S), ``(M, device columns)``."""
        return self.xbar.array.conductance()

    def weights(self) -> np.ndarray:
        """Noise-free crossbar weights ``(M, N)`` in weight units."""
        return self.xbar.weights()

    def _rows(self, mask) -> np.ndarray:
        if isinstance(mask, (int, np.integer)):
            m = int(mask)
            return np.array([i for i in range(self.core.M) if (m >> i) & 1], dtype=np.int64)
        return np.flatnonzero(np.asarray(mask)).astype(np.int64)
