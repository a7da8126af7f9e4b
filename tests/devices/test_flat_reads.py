"""Flat-index reads equal the corresponding entries of the whole-array reads."""

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
