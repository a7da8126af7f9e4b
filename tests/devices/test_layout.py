"""Column storage: a ``"columns"`` DeviceArray of shape (r, c) is the transposed ``"rows"`` array
of shape (c, r) with the same seed, through every API call (draws are keyed by storage position)."""

import numpy as np
import pytest

from hwsnn.devices import DeviceArray, get_preset

STO = get_preset("sto")
# the per-device kernels (another update law, PCM drift and 1/f read noise) besides the block ones
LAWS = {
    "sto": STO.replace(p_stuck_min=0.02, p_stuck_max=0.02, p_stuck_random=0.02),
    "pcm": get_preset("aihwkit_pcm"),
    "linear": STO.replace(update_model="linear"),
}
R, C = 9, 6


def pair(params, seed=5):
    return DeviceArray(params, (R, C), seed=seed, layout="columns"), DeviceArray(params, (C, R), seed=seed)


def flat_t(idx):
    """Flat index (row * C + col) of the column array -> flat index of the transposed row array."""
    idx = np.asarray(idx)
    return (idx % C) * R + idx // C


@pytest.mark.parametrize("law", sorted(LAWS))
def test_columns_equal_the_transposed_row_array(law):
    a, b = pair(LAWS[law])
    rng = np.random.default_rng(1)
    eq = np.testing.assert_array_equal
    for prop in ("g_min_dev", "g_max_dev", "stuck", "nu", "tau"):
        eq(getattr(a, prop), getattr(b, prop).T)
        assert getattr(a, prop).flags.c_contiguous and getattr(a, prop).shape == (R, C)
    for step in range(3):
        n = rng.integers(-5, 7, (R, C))
        a.pulse(n)
        b.pulse(n.T)
        rows = np.array([7, 2, 4])
        m = rng.integers(-3, 4, (rows.size, C))
        a.pulse(m, rows=rows)
        # rows of the column array are columns of the row array: pulse them as a device list
        idx = (rows[:, None] * C + np.arange(C)[None, :]).reshape(-1)
        o = np.argsort(flat_t(idx))
        b.pulse_at(flat_t(idx)[o], m.reshape(-1)[o])
        sel = np.array([10, 3, 41, 22])
        a.pulse_at(sel, [2, -1, 3, 1])
        o = np.argsort(flat_t(sel))
        b.pulse_at(flat_t(sel)[o], np.array([2, -1, 3, 1])[o])
        a.advance(0.7 * (step + 1))
        b.advance(0.7 * (step + 1))
        eq(a.conductance(), b.conductance().T)
        eq(a.read(), b.read().T)  # read noise too: same counters, same storage keys
        eq(a.long_term(), b.long_term().T)
        eq(a.long_term(siemens=True), b.long_term(siemens=True).T)
        eq(a.conductance(rows=[8, 0], cols=[5, 1, 2]), b.conductance(rows=[5, 1, 2], cols=[8, 0]).T)
        eq(a.conductance(cols=[4, 1]), b.conductance(rows=[4, 1]).T)
        eq(a.read(rows=[3]), b.read(cols=[3]).T)
        eq(a.long_term(cols=[0, 5]), b.long_term(rows=[0, 5]).T)
        eq(a.conductance_at(sel), b.conductance_at(flat_t(sel)))
        eq(a.long_term_at(sel), b.long_term_at(flat_t(sel)))
        tgt = rng.uniform(STO.g_min, STO.g_max, (R, C))
        eq(a.pulses_for(tgt), b.pulses_for(tgt.T).T)
        eq(a.pulses_for(tgt[[6, 1]], rows=[6, 1]), b.pulses_for(tgt.T).T[[6, 1]])
    assert a.energy == pytest.approx(b.energy, rel=1e-12) and a.pulse_count == b.pulse_count
    assert "columns" in repr(a)


def test_columns_layout_keeps_the_api_orientation():
    # a column array's row write touches exactly that row, like a row array's
    a = DeviceArray(STO, (4, 3), seed=0, layout="columns")
    a.pulse([4, 0, 2], rows=[2])
    n_on = a.conductance() > a.g_min_dev
    assert n_on[2].tolist() == [True, False, True] and not n_on[[0, 1, 3]].any()
