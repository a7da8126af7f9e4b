"""cocotb testbenches (one module per RTL unit) and the runner that applies the toolchain fixes."""
