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

# Hypothesis profiles.  "derandomized" (the default run): the examples are a fixed function of each
# test, nothing is read from or written to a local example database, and a failure prints its
# reproduction blob (@reproduce_failure), so a failure in a log reproduces from the log alone.
# "random" (new random examples each run; 5x the examples where a test does not set max_examples
# itself): selected by HYPOTHESIS_PROFILE=random
# or `--hypothesis-profile random`, and automatically when the -m expression selects slow tests;
# the slow run of the property tests is `pytest -m "slow or hypothesis"` (the hypothesis plugin
# marks every @given test `hypothesis`).  Per-test @settings still override single fields.
from hypothesis import settings as _hyp_settings  # noqa: E402

_hyp_settings.register_profile("derandomized", derandomize=True, database=None, print_blob=True)
_hyp_settings.register_profile("random", derandomize=False, database=None, print_blob=True,
                               max_examples=5 * _hyp_settings.default.max_examples)
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))


def pytest_configure(config):
    mark = (config.getoption("markexpr", "") or "").replace(" ", "")
    if "HYPOTHESIS_PROFILE" not in os.environ and "slow" in mark and "notslow" not in mark \
            and not config.getoption("hypothesis_profile", None):
        _hyp_settings.load_profile("random")


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
