"""IR drop: fast iterative model vs the direct sparse nodal solve, closed forms and invariants."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.crossbar import ideal_currents, ir_drop_currents, ir_drop_nodal
from hwsnn.errors import ConfigError


def rand_case(m, n, seed, drop):
    """Random array; r chosen so the worst column loses roughly ``drop`` of its ideal current."""
    rng = np.random.default_rng(seed)
    g = rng.uniform(3e-6, 40e-6, (m, n))
    v = rng.uniform(0.0, 0.1, m) * (rng.uniform(size=m) < 0.7)
    # first-order drop ~ r * G * (m^2 + n^2)/2
    r = drop / (g.mean() * (m * m + n * n) / 2)
    return g, v, r


@pytest.mark.parametrize("m, n, seed, drop", [(8, 6, 0, 0.05), (12, 10, 1, 0.2), (16, 16, 2, 0.4), (5, 20, 3, 0.3)])
def test_fast_model_matches_nodal_solve(m, n, seed, drop):
    g, v, r = rand_case(m, n, seed, drop)
    ref = ir_drop_nodal(g, v, r)
    fast = ir_drop_currents(g, v, r, tol=1e-10)
    ideal = ideal_currents(g, v)
    # the case really has IR drop (several percent), and the fast model agrees to 1e-7
    assert np.max(np.abs(ideal - ref)) / np.max(np.abs(ref)) > 0.02
    assert np.max(np.abs(fast - ref)) <= 1e-7 * np.max(np.abs(ref))


def agrees_with_nodal(fast, g, v, r, rtol=1e-7):
    """The checker used above, as a function so it can be run on mutants."""
    ref = ir_drop_nodal(g, v, r)
    return np.max(np.abs(fast(g, v, r) - ref)) <= rtol * np.max(np.abs(ref))


def test_checker_rejects_mutants():
    g, v, r = rand_case(10, 10, 4, 0.2)
    assert agrees_with_nodal(lambda g, v, r: ir_drop_currents(g, v, r, tol=1e-10), g, v, r)
    assert not agrees_with_nodal(lambda g, v, r: ideal_currents(g, v), g, v, r)  # no IR drop at all
    assert not agrees_with_nodal(lambda g, v, r: ir_drop_currents(g, v, 0.9 * r), g, v, r)  # r off by 10 %
    assert not agrees_with_nodal(lambda g, v, r: ir_drop_currents(g, v, r, tol=1e-2), g, v, r)  # stopped early


def test_zero_wire_resistance_is_exactly_the_ideal_mvm():
    g, v, _ = rand_case(7, 9, 5, 0.1)
    ideal = g.T @ v
    assert np.array_equal(ir_drop_currents(g, v, 0.0), ideal)
    assert np.array_equal(ir_drop_nodal(g, v, 0.0), ideal)
    # and the r -> 0 limit is continuous (the nodal system really converges to it)
    assert np.allclose(ir_drop_nodal(g, v, 1e-6), ideal, rtol=1e-8, atol=0)


def test_single_cell_closed_form():
    # driver -r- cell G -r- virtual ground: I = V / (2 r + 1/G)
    g, v, r = np.array([[2e-3]]), np.array([0.3]), 50.0
    expect = 0.3 / (2 * r + 1 / 2e-3)
    assert ir_drop_nodal(g, v, r)[0] == pytest.approx(expect, rel=1e-12)
    assert ir_drop_currents(g, v, r, tol=1e-13)[0] == pytest.approx(expect, rel=1e-10)


def test_nodal_solution_conserves_power():
    g, v, r = rand_case(9, 7, 6, 0.3)
    i_out, vw, vb = ir_drop_nodal(g, v, r, return_voltages=True)
    # power from drivers = power in cells + word-line + bit-line segments (sense at 0 V takes none)
    i_drv = (v - vw[:, 0]) / r
    p_in = np.sum(v * i_drv)
    p_cells = np.sum(g * (vw - vb) ** 2)
    p_wl = (np.sum((v - vw[:, 0]) ** 2) + np.sum(np.diff(vw, axis=1) ** 2)) / r
    p_bl = (np.sum(np.diff(vb, axis=0) ** 2) + np.sum(vb[-1, :] ** 2)) / r
    assert p_in == pytest.approx(p_cells + p_wl + p_bl, rel=1e-9)
    # and KCL: all driver current reaches the sense amplifiers
    assert np.sum(i_drv) == pytest.approx(np.sum(i_out), rel=1e-9)


def test_ir_drop_only_reduces_currents_for_positive_inputs():
    g, v, r = rand_case(12, 12, 7, 0.2)
    out = ir_drop_nodal(g, v, r)
    assert np.all(out <= ideal_currents(g, v) + 1e-18) and np.all(out > 0)


def test_bad_inputs():
    with pytest.raises(ConfigError, match="r_wire"):
        ir_drop_currents(np.ones((2, 2)), np.ones(2), -1.0)
    with pytest.raises(ConfigError) as ei:
        ir_drop_nodal(np.ones((2, 2)), np.ones(3), 1.0)
    assert ei.value.field == "v"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 7), n=st.integers(1, 7), seed=st.integers(0, 2**31), drop=st.floats(1e-4, 0.6))
def test_fast_matches_nodal_on_any_small_shape(m, n, seed, drop):
    g, v, r = rand_case(m, n, seed, drop)
    ref = ir_drop_nodal(g, v, r)
    scale = max(np.max(np.abs(ref)), 1e-30)
    assert np.max(np.abs(ir_drop_currents(g, v, r, tol=1e-11) - ref)) <= 1e-7 * scale


def test_fast_model_exact_cancellation_case():
    # found by hypothesis: 1x1 with 2*r*G = 1 maps the first-order current exactly to 0 on the
    # first iteration; the stop test once took that for convergence and returned I0/3 (nodal: I0/2)
    g, v, r = rand_case(1, 1, 0, 0.5)
    assert 2 * r * g[0, 0] == pytest.approx(1.0)
    np.testing.assert_allclose(ir_drop_currents(g, v, r, tol=1e-11), ir_drop_nodal(g, v, r), rtol=1e-9)
