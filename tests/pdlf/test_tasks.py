"""Inner-loop tasks: the working-memory task needs plasticity; digits; errors; fast weights."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.pdlf.fastweights import FastWeightParams, FastWeights, memory_length
from hwsnn.pdlf.tasks import (DigitsTask, MemoryTask, coefficients, genome_size, make_episode, projection_shape,
                               readout, run_episode, task_from_dict)

MEM = MemoryTask(n_items=4, n_out=4, n_in=24, n_active=4, steps=12, gap=3, latency=20)
HEBB = ("rule", {"A": 1.0, "B": 0.0, "C": 0.0, "D": 0.0})


def test_readout_ties_are_chance():
    counts = np.array([[3, 0], [1, 1], [0, 2]])
    acc, fit = readout(np.zeros((2, 3)), counts, np.array([0, 1, 2]), 10.0)
    assert acc == pytest.approx(1 / 3) and fit == pytest.approx(1 / 3)
    acc, _ = readout(np.array([[1.0, 0, 0], [0, 1.0, 1.0]]), counts, np.array([0, 1, 2]), 10.0)
    assert acc == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)  # ties of 3 and of 2, each incl. the target


@pytest.mark.parametrize("which", ["random", "learned"])
def test_memory_fixed_weights_at_chance(which):
    """The pairing is drawn anew every episode: a fixed matrix scores chance on average over other
    episodes (within 4 standard errors over 200 episodes) -- a random matrix, and the matrix the
    plastic rule built in episode 0 (which recalls episode 0 well); zero weights score exactly
    chance."""
    if which == "random":
        w = np.random.default_rng(0).random((MEM.n_in, MEM.n_out))
    else:
        r0 = run_episode(MEM, HEBB, 0)
        assert r0["accuracy"] >= 0.75
        w = r0["w"]
    acc = np.array([run_episode(MEM, ("weights", w), s)["accuracy"] for s in range(1, 201)])
    se = acc.std() / np.sqrt(acc.size)
    assert abs(acc.mean() - 1 / MEM.n_out) < 4 * se + 1e-9
    z = [run_episode(MEM, ("rule", {"A": 0.0, "B": 0.0, "C": 0.0, "D": 0.0}), s)["accuracy"] for s in range(5)]
    assert z == [pytest.approx(0.25)] * 5


def test_memory_plastic_rule_recalls():
    # chance 0.25; overlapping random cues cost some recalls
    acc = np.mean([run_episode(MEM, HEBB, s)["accuracy"] for s in range(10)])
    assert acc > 0.65
    acc = np.mean([run_episode(MEM, ("stdp", None), s)["accuracy"] for s in range(10)])
    assert acc > 0.65


def test_per_synapse_genome_layout():
    # coefficient-major, each matrix row-major; the coefficients a variant does not evolve are 0
    t = MEM.replace(coefficient_scope="synapse")
    n = MEM.n_in * MEM.n_out
    assert projection_shape(t) == (MEM.n_in, MEM.n_out)
    assert genome_size(MEM) == 4 and genome_size(t) == 4 * n
    assert genome_size(t.replace(variant="BD")) == 2 * n
    assert projection_shape(DigitsTask(n_classes=5)) == (64, 5)
    g = np.arange(2 * n, dtype=float)
    c = coefficients(g, "BD", (MEM.n_in, MEM.n_out))
    np.testing.assert_array_equal(c["B"], g[:n].reshape(MEM.n_in, MEM.n_out))
    np.testing.assert_array_equal(c["D"], g[n:].reshape(MEM.n_in, MEM.n_out))
    assert not c["A"].any() and not c["C"].any()
    with pytest.raises(ConfigError, match="genome.*x 24 x 4 synapses"):
        coefficients(g[:-1], "BD", (MEM.n_in, MEM.n_out))


def test_per_synapse_episode_with_uniform_genome_is_the_layer_episode():
    # the same value on every synapse is the per-layer rule: identical weights and accuracy
    layer = (0.9, 0.2, 0.3, -0.5)
    t = MEM.replace(coefficient_scope="synapse")
    n = MEM.n_in * MEM.n_out
    g = np.repeat(layer, n)
    for seed in (0, 1):
        a = run_episode(MEM, ("rule", list(layer)), seed)
        b = run_episode(t, ("rule", g), seed)
        np.testing.assert_array_equal(a["w"], b["w"])
        assert a["accuracy"] == b["accuracy"]
    # one synapse's own coefficient moves only through that synapse
    g2 = g.copy()
    g2[3 * n + 5] += 40.0  # D of synapse (1, 1): a large extra drift
    w2 = run_episode(t, ("rule", g2), 0)["w"]
    w1 = run_episode(t, ("rule", g), 0)["w"]
    assert w2[1, 1] / w2.max() > w1[1, 1] / w1.max()


def test_episode_is_function_of_seed():
    a, b, c = make_episode(MEM, 3), make_episode(MEM, 3), make_episode(MEM, 4)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.test_labels, b.test_labels)
    assert not np.array_equal(a.x, c.x)


def test_digits_learns_above_chance():
    t = DigitsTask(n_classes=5, shots=2, n_test=30, steps=15)
    acc = np.mean([run_episode(t, HEBB, s)["accuracy"] for s in range(3)])
    assert acc > 0.35  # chance 0.2
    ep = make_episode(t, 0, "test")
    assert ep.test_counts.shape == (30, 64) and set(ep.test_labels) <= set(range(5))


def test_bad_task_input_names_field():
    with pytest.raises(ConfigError, match=r"task\.n_items"):
        task_from_dict({"name": "memory", "n_items": 1})
    with pytest.raises(ConfigError, match=r"task\.name"):
        task_from_dict({"name": "sudoku"})
    with pytest.raises(ConfigError, match=r"task\.bogus"):
        task_from_dict({"name": "digits", "bogus": 1})
    with pytest.raises(ConfigError, match="n_active"):
        make_episode(MemoryTask(n_in=4, n_active=5), 0)
    with pytest.raises(ConfigError, match="weights"):
        run_episode(MEM, ("weights", np.zeros((2, 2))), 0)


def test_fast_weights_memory_grows_with_relaxation_time():
    lats = [0.0, 0.3, 1.0, 3.0, 10.0]
    out = []
    for bias in (-2.0, 2.0):
        fw = FastWeights(FastWeightParams(bias=bias))
        acc = [np.mean([run_episode(MEM.replace(latency=int(l / MEM.dt)), ("stdp", None), s, fast=fw)["accuracy"]
                        for s in range(6)]) for l in lats]
        out.append(memory_length(lats, acc, 0.25))
    assert out[1] > 3 * out[0]


def test_memory_length_interpolation():
    assert memory_length([1, 10, 100], [1.0, 1.0, 0.0], 0.0) == pytest.approx(np.sqrt(1000))
    assert memory_length([1, 10], [0.1, 0.0], 0.0) == 1
    assert memory_length([1, 10], [1.0, 1.0], 0.0) == 10
