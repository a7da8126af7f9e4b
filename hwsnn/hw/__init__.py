"""Amaranth components of the learning hardware; each mirrors a golden model 1:1."""
