"""Learning rules: float models and their integer twins (reference ``plasticity.md`` section 5).

* :mod:`~hwsnn.plasticity.stdp` -- R1 pair STDP (additive, soft-bound, power-law, D&C power-law)
  and R2 triplet STDP (Diehl & Cook code form), float + integer (LFSR16 stochastic rounding,
  bit-exact to Contract 1 ``stdp_update`` in the additive case);
* :mod:`~hwsnn.plasticity.homeostasis` -- R4a normalisation, R4b stepwise scaling, R4c rate scaling;
* :mod:`~hwsnn.plasticity.threshold` -- R5a adaptive threshold, R5b homeostatic IP, R5c stepwise
  learning-threshold-gated updates;
* :mod:`~hwsnn.plasticity.traces` -- trace kernels (float exponential, integer ceil-decay).

Numba kernels are ``@njit(cache=True)`` and can be called from other kernels.  Rule dataclasses
validate every field (:class:`hwsnn.errors.ConfigError` names it) and ``bind`` to a synapse
backend of :class:`hwsnn.snn.Network` through the :class:`~hwsnn.plasticity.base.Learner`
protocol, in the per-step order :data:`hwsnn.snn.STEP_ORDER`.
"""

from hwsnn.plasticity.base import *  # noqa: F401,F403
from hwsnn.plasticity.homeostasis import *  # noqa: F401,F403
from hwsnn.plasticity.stdp import *  # noqa: F401,F403
from hwsnn.plasticity.threshold import *  # noqa: F401,F403
from hwsnn.plasticity.traces import *  # noqa: F401,F403
