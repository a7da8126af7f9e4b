"""The unit registry: one record per RTL unit, every reference resolvable, read by the tools."""

from __future__ import annotations

import pytest

from hwsnn.errors import ConfigError
from hwsnn.hw import export
from hwsnn.hw.registry import REGISTRY, get, names


@pytest.mark.parametrize("name", list(REGISTRY))
def test_every_record_resolves(name):
    rec = get(name)
    assert rec.name == name and rec.params.module == name
    cls = rec.component_class()
    assert cls.__name__ and callable(cls)
    reset, step = rec.golden()
    assert callable(reset) and callable(step)
    reset(rec.params())
    bench = rec.bench_module()
    assert bench.__name__ == f"sim.{rec.bench}"
    assert rec.mutant_table(), f"{name}: no deliberate mutants"


def test_tools_read_the_registry():
    assert list(export.UNITS) == list(REGISTRY) == names()
    assert names("core") == ["learning_core"] and "learning_core" not in names("unit")
    with pytest.raises(ConfigError, match="--unit"):
        get("nope", field="--unit")


def test_bench_modules_import_without_path_edits():
    import sys

    from hwsnn.hw.registry import repo_root, sim_runner

    r = sim_runner()
    assert r.__name__ == "sim.runner"
    assert str(repo_root() / "sim") not in sys.path  # only the checkout root, added in one place
