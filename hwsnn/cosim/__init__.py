"""Co-simulation: the RTL learning core with the memristor crossbar model in the loop.

- :mod:`hwsnn.cosim.agent` -- the crossbar side of the core's interface (plain Python handlers,
  shared by the cocotb agent and the golden run);
- :mod:`hwsnn.cosim.record` -- run records, exact comparison, the golden run;
- :mod:`hwsnn.cosim.amaranth_run` -- the same protocol in Amaranth's simulator;
- :mod:`hwsnn.cosim.config` -- the typed ``hwsnn cosim`` configuration and presets;
- :mod:`hwsnn.cosim.run` -- RTL co-simulation through cocotb, summary and result files;
- :mod:`hwsnn.cosim.digits` -- end-to-end 8x8 digits learning, co-simulated and float twin.
"""
