"""PGPE pieces against direct references, convergence on a quadratic, CMA-ES, determinism over
worker counts."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from hwsnn.errors import ConfigError
from hwsnn.pdlf.outer import PGPE, CMASettings, PGPESettings, centered_ranks, evolve
from hwsnn.pdlf.tasks import MemoryTask, params_from_dict


def test_centered_ranks_reference():
    f = np.array([3.0, -1.0, 10.0, 0.5, 7.0])
    want = (rankdata(f) - 1) / (f.size - 1) - 0.5
    np.testing.assert_allclose(centered_ranks(f), want)
    assert centered_ranks(f).min() == -0.5 and centered_ranks(f).max() == 0.5


def test_antithetic_pairs_and_first_step():
    s = PGPESettings(pop_size=8, center_lr=0.1, std_lr=0.0)
    opt = PGPE(3, s, seed=4, x0=[1.0, -2.0, 0.5])
    pop = opt.ask()
    np.testing.assert_allclose(pop[0::2] + pop[1::2], np.broadcast_to(2 * opt.mu, (4, 3)))  # mu + eps, mu - eps
    eps = pop[0::2] - opt.mu
    f = -np.sum(pop**2, axis=1)
    # direct reference: centred ranks, g = mean eps (r+ - r-)/2; Adam's first step is lr * g / |g|
    order = np.argsort(f)
    r = np.empty(8)
    r[order] = np.arange(8) / 7 - 0.5
    g = np.mean(eps * ((r[0::2] - r[1::2]) / 2)[:, None], axis=0)
    mu0 = opt.mu.copy()
    opt.tell(f)
    np.testing.assert_allclose(opt.mu - mu0, 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-6)


def test_sigma_update_reference_and_clip():
    s = PGPESettings(pop_size=6, std_lr=0.07, init_std=0.5, std_max_change=0.2)
    opt = PGPE(2, s, seed=1)
    pop = opt.ask()
    eps = pop[0::2] - opt.mu
    f = np.array([1.0, 0.0, 5.0, 4.0, 2.0, 3.0])
    r = centered_ranks(f)
    fbar = (r[0::2] + r[1::2]) / 2
    g = np.mean((fbar - r.mean())[:, None] * (eps**2 - 0.25) / 0.5, axis=0)
    opt.tell(f)
    np.testing.assert_allclose(opt.sigma, 0.5 + np.clip(0.07 * g, -0.1, 0.1))
    big = PGPE(2, s.replace(std_lr=100.0), seed=1)
    big.ask()
    big.tell(f)
    assert np.all(np.abs(big.sigma - 0.5) <= 0.1 + 1e-12)


def test_pgpe_converges_on_quadratic():
    target = np.array([0.7, -0.4, 0.2])
    opt = PGPE(3, PGPESettings(pop_size=32, center_lr=0.05, init_std=0.2), seed=0)
    for _ in range(150):
        pop = opt.ask()
        opt.tell(-np.sum((pop - target) ** 2, axis=1))
    assert np.linalg.norm(opt.mu - target) < 0.05


def test_bad_settings_name_the_field():
    with pytest.raises(ConfigError, match=r"pgpe\.pop_size"):
        params_from_dict(PGPESettings, {"pop_size": 7}, "pgpe")
    with pytest.raises(ConfigError, match=r"pgpe\.center_lr"):
        params_from_dict(PGPESettings, {"center_lr": -1}, "pgpe")
    with pytest.raises(ConfigError, match="fitness"):
        opt = PGPE(2, PGPESettings(pop_size=4))
        opt.ask()
        opt.tell([1.0, 2.0])
    with pytest.raises(ConfigError, match="generations"):
        evolve(MemoryTask(), generations=0)
    with pytest.raises(ConfigError, match="x0.*512 values"):  # per synapse: 4 coefficients x 32 x 4 synapses
        evolve(MemoryTask(coefficient_scope="synapse"), generations=1, x0=[0.0] * 4)


@pytest.mark.parametrize("algo", ["pgpe", "cma"])
def test_x0_is_the_first_generations_centre(algo):
    # the first population is drawn around x0 (antithetic for PGPE: pairs average to x0 exactly)
    task = MemoryTask(n_items=3, n_out=3, n_in=12, n_active=3, steps=8, gap=2, latency=5)
    x0 = [0.7, -0.2, 0.1, 0.3]
    seen = []
    import hwsnn.pdlf.outer as outer

    real = outer._map

    def spy(executor, fn, tasks):
        seen.append(np.array([t["genome"] for t in tasks]))
        return real(executor, fn, tasks)

    outer._map = spy
    try:
        evolve(task, generations=1, episodes=1, seed=3, algo=algo, x0=x0,
               pgpe=PGPESettings(pop_size=4), cma=CMASettings(pop_size=4, sigma0=0.01))
    finally:
        outer._map = real
    pop = seen[0]
    if algo == "pgpe":
        np.testing.assert_allclose((pop[0::2] + pop[1::2]) / 2, np.tile(x0, (2, 1)), atol=1e-12)
    else:
        assert np.abs(pop - x0).max() < 0.06  # 6 sigma; a start at zeros is 0.7 away


def _tiny(workers, algo="pgpe"):
    task = MemoryTask(n_items=3, n_out=3, n_in=12, n_active=3, steps=8, gap=2, latency=5)
    r = evolve(task, generations=2, episodes=1, seed=7, algo=algo, workers=workers,
               pgpe=PGPESettings(pop_size=4, init_std=0.3), cma=CMASettings(pop_size=4))
    return r.history


def test_deterministic_over_worker_counts():
    h1 = _tiny(1)
    h2 = _tiny(2)
    h0 = _tiny(0)
    assert h1 == h2 == h0
    assert len({h["fitness_mean"] for h in h1}) >= 1


def test_cma_runs_and_is_seeded():
    a = _tiny(0, "cma")
    b = _tiny(0, "cma")
    assert a == b and len(a) == 2
