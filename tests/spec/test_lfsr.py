"""LFSR16 definition: maximal length and hand-computed first steps."""

import pytest

from hwsnn.errors import ConfigError
from hwsnn.spec.lfsr import LFSR_SEED_DEFAULT, LFSR_TAPS, check_seed, lfsr16_next, lfsr16_period, lfsr16_sequence


def test_first_steps_by_hand():
    # 0xACE1 = ...0001: lsb 1 -> (0xACE1 >> 1) ^ 0xB400 = 0x5670 ^ 0xB400 = 0xE270 (lsb 0)
    # 0xE270 -> 0x7138 (lsb 0) -> 0x389C
    assert lfsr16_next(0xACE1) == 0xE270
    assert list(lfsr16_sequence(LFSR_SEED_DEFAULT, 3)) == [0xACE1, 0xE270, 0x7138]


def test_taps_give_maximal_period():
    # a primitive feedback polynomial visits every non-zero state: period 2^16 - 1
    assert lfsr16_period(LFSR_SEED_DEFAULT) == 65535
    assert lfsr16_period(1) == 65535


def test_wrong_taps_are_caught_by_the_period_check():
    # mutant check: the period test must fail for a non-primitive mask
    assert lfsr16_period(LFSR_SEED_DEFAULT, taps=LFSR_TAPS ^ 0x0400) != 65535


@pytest.mark.parametrize("bad", [0, 0x10000, -1, 1.5, True])
def test_bad_seed_names_field(bad):
    with pytest.raises(ConfigError, match="LFSR_SEED"):
        check_seed(bad)
