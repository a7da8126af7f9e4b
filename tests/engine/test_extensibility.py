"""A rule written outside hwsnn (here) is selected from TOML and runs fused in hwsnn run's path."""

from __future__ import annotations

import json
import tomllib
from typing import Literal, NamedTuple

import numpy as np
from numba import njit
from pydantic import Field

from hwsnn.config import parse_config
from hwsnn.engine.contract import Rule, RuleHooks, TraceSpec, register_rule
from hwsnn.tasks.run import run_experiment


class ToyConst(NamedTuple):
    step: float


CALLS = []  # a Python-level call would land here; a compiled hook cannot append to it


@njit(cache=False, inline="always")
def toy_on_post(c, w, x_pre):
    # potentiate every recently active afferent of a spiking neuron by a fixed step
    return c.step if x_pre > 0.5 else 0.0


@register_rule
class ToyPotentiation(Rule):
    """Test-only rule: ``dw = step`` for afferents with a presynaptic trace above 0.5."""

    kind: Literal["toy_potentiation"] = "toy_potentiation"
    step: float = Field(0.01, ge=0)
    """Weight change per postsynaptic spike."""
    tau_pre: float = Field(0.01, gt=0)
    """Presynaptic trace time constant (s)."""

    def traces(self):
        return (TraceSpec("pre", self.tau_pre),)

    def hooks(self):
        return RuleHooks(on_post=toy_on_post)

    def consts(self, ctx):
        CALLS.append("consts")  # once, when the network is built
        return ToyConst(self.step)


TOML = """
[task]
dataset = "digits"
baseline = "none"
seeds = [0]
epochs = 1
n_train = 40
n_test = 20
kmeans = false

[network]
n_exc = 6
efficacy = 20.0

[homeostasis]
norm_per_input = 0.0

[synapse]
backend = "ideal"

[[rules]]
kind = "toy_potentiation"
step = {step}
"""


def test_toy_rule_from_toml_runs_fused_through_run_experiment(tmp_path):
    from hwsnn.engine import kernel

    cfg = parse_config(tomllib.loads(TOML.format(step=0.02)))
    assert type(cfg.rules[0]) is ToyPotentiation
    before = set(kernel._LOADED)
    m = run_experiment(cfg, tmp_path / "a")
    assert CALLS == ["consts"]  # the rule was compiled in once; no Python call per step
    new = set(kernel._LOADED) - before
    assert len(new) == 1, "a kernel was generated for the toy rule"
    present = kernel._LOADED[new.pop()]
    src = kernel.kernel_cache_dir() / f"{[k for k in kernel._LOADED if kernel._LOADED[k] is present][0]}.py"
    text = src.read_text()
    assert "R0_post(rc[0]" in text  # called by name inside the time-step loop
    assert present.py_func.__globals__["R0_post"] is toy_on_post
    # and it learned: only potentiation, so every weight can only have grown
    cfg0 = parse_config(tomllib.loads(TOML.format(step=0.0)))
    m0 = run_experiment(cfg0, tmp_path / "b")
    w = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert w["config"]["rules"][0]["kind"] == "toy_potentiation"
    assert m["accuracy"] is not None and m0["accuracy"] is not None


def test_toy_rule_changes_weights_as_its_hook_says():
    from hwsnn.engine.layer import LayerNetwork

    cfg = parse_config(tomllib.loads(TOML.format(step=0.05)))
    net = LayerNetwork(cfg, 64, seed=1)
    w0 = net.weights()
    r = np.zeros((40, 64), bool)
    r[5:15, :10] = True
    counts = net.present_raster(r, learn=True)
    dw = net.weights() - w0
    assert counts.sum() > 0
    assert (dw >= 0).all() and not dw[:, counts == 0].any()
    # active afferents of spiking neurons grew by a multiple of the step (clipped at w_max)
    j = int(np.argmax(counts))
    grown = dw[:10, j]
    assert grown.max() > 0, "the hook must have run to mean anything"
    assert np.all((np.isclose(grown % 0.05, 0.0, atol=1e-9) | np.isclose(grown % 0.05, 0.05, atol=1e-9))
                  | (net.weights()[:10, j] == 1.0))
    assert dw[10:, j].max() == 0.0
