"""hwsnn: memristor/FPGA hardware co-simulation of spiking neural networks with local plasticity.

Layers (arrows = may import): spec <- devices <- crossbar <- snn <- plasticity <- golden,
hw (-> spec), cosim, tasks, sweep, cli.  Documentation: docs/ (index.md).
"""

__version__ = "0.1.0"
