"""Shared test fixtures: repository paths, simulator availability, a tmp results folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    # `sim/` (cocotb benches + runner) is a top-level folder of the repository, not part of the package.
    sys.path.insert(0, str(REPO))

os.environ.setdefault("HWSNN_PROGRESS", "0")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


def require_simulator(name: str):
    """Skip the calling test, with the reason, when simulator ``name`` is not usable."""
    from hwsnn.toolchain import simulator

    tool = simulator(name)
    if not tool.ok:
        pytest.skip(f"{name} not available: {tool.reason} (fix: {tool.fix})")
    return tool


@pytest.fixture
def sim_tool():
    return require_simulator
