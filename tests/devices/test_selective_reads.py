"""Event-driven reads (flat indices, row/column selections) equal the corresponding entries of
the whole-array reads."""

import numpy as np
import pytest

from hwsnn.devices import DeviceArray, get_preset
from hwsnn.errors import ConfigError


def test_flat_reads_match_full_reads():
    a = DeviceArray(get_preset("sto"), shape=(12, 9), seed=4)
    rng = np.random.default_rng(0)
    a.pulse(rng.integers(-3, 8, size=(12, 9)))
    a.advance(2.5)
    idx = rng.choice(12 * 9, size=40, replace=False)
    np.testing.assert_allclose(a.conductance_at(idx), a.conductance().reshape(-1)[idx], rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.long_term_at(idx), a.long_term().reshape(-1)[idx], rtol=1e-12)
    # mutant check: reading neighbouring devices instead must not pass the same comparison
    assert not np.allclose(a.conductance_at((idx + 1) % 108), a.conductance().reshape(-1)[idx], rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad", [[-1], [108], [[1, 2]], [0.5]])
def test_bad_flat_index_names_field(bad):
    a = DeviceArray(get_preset("sto"), shape=(12, 9), seed=4)
    with pytest.raises(ConfigError, match="flat_idx"):
        a.conductance_at(np.asarray(bad))


def test_column_selections_match_full_reads():
    # rows/cols selections (the crossbar's event-driven column reads) equal slices of full reads;
    # two arrays with the same seed draw the same read noise for the same device and read count
    kw = dict(shape=(12, 9), seed=4)
    a, b = DeviceArray(get_preset("sto"), **kw), DeviceArray(get_preset("sto"), **kw)
    rng = np.random.default_rng(1)
    n = rng.integers(-3, 8, size=(12, 9))
    for x in (a, b):
        x.pulse(n)
        x.advance(2.5)
    cols = np.array([7, 0, 3])
    rows = np.array([2, 11, 5])
    np.testing.assert_allclose(a.conductance(cols=cols), a.conductance()[:, cols], rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.conductance(rows, cols), a.conductance()[np.ix_(rows, cols)], rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.read(cols=cols), b.read()[:, cols], rtol=1e-12, atol=0)
    lt = a.long_term()
    np.testing.assert_allclose(a.long_term(cols=cols), lt[:, cols], rtol=1e-12)
    g_lt = a.g_min_dev + (a.g_max_dev - a.g_min_dev) * lt
    np.testing.assert_allclose(a.long_term(rows, cols, siemens=True), g_lt[np.ix_(rows, cols)], rtol=1e-12)
    # mutant check: a neighbouring column must not pass
    assert not np.allclose(a.conductance(cols=cols + 1), a.conductance()[:, cols], rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad", [[-1], [9], [[1, 2]], [0.5]])
def test_bad_cols_names_field(bad):
    a = DeviceArray(get_preset("sto"), shape=(12, 9), seed=4)
    with pytest.raises(ConfigError, match="cols"):
        a.conductance(cols=np.asarray(bad))
