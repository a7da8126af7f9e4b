"""Learned plasticity rules (PDLF-style): the rule family of :mod:`hwsnn.engine.rules.pdlf`
evolved by an outer loop.

* :mod:`hwsnn.pdlf.tasks` -- inner-loop episodes (few-shot digits readout, cue-recall working
  memory) on :class:`hwsnn.snn.Network`;
* :mod:`hwsnn.pdlf.outer` -- PGPE (antithetic pairs, centred ranks, Adam on the mean) and CMA-ES,
  fitness evaluations on the sweep executors;
* :mod:`hwsnn.pdlf.fastweights` -- the working-memory inner loop with the fast weights held in the
  volatile state of STO devices.
"""
