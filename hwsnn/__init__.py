"""hwsnn: memristor/FPGA hardware co-simulation of spiking neural networks with local plasticity.

Layers (arrows = may import): spec <- devices <- crossbar <- snn <- plasticity <- golden,
hw (-> spec), cosim, tasks, sweep, cli.  See DESIGN.md in the project docs.
"""

__version__ = "0.1.0"
