"""Numerical helpers of the engine's rules (the rules themselves are :mod:`hwsnn.engine.rules`).

* :mod:`~hwsnn.plasticity.fixed` -- LFSR16 and stochastic rounding of the integer twins;
* :mod:`~hwsnn.plasticity.traces` -- trace helpers (float exponential, integer ceil-decay,
  time-constant <-> shift);
* :mod:`~hwsnn.plasticity.homeostasis` -- the column-normalisation kernels (float, integer).
"""

from hwsnn.plasticity.homeostasis import *  # noqa: F401,F403
from hwsnn.plasticity.traces import *  # noqa: F401,F403
