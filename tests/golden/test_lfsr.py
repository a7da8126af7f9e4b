"""Golden lfsr16 step function: reset, enable and hold against the spec sequence."""

from hwsnn.golden.lfsr import Lfsr16In, lfsr16_reset, lfsr16_step
from hwsnn.spec.lfsr import lfsr16_sequence
from hwsnn.spec.units import Lfsr16Params


def test_enabled_steps_walk_the_spec_sequence_and_disabled_steps_hold():
    p = Lfsr16Params(LFSR_SEED=0x1234)
    seq = lfsr16_sequence(0x1234, 50)
    st = lfsr16_reset(p)
    assert st.state == 0x1234
    k = 0
    for i in range(200):
        en = int(i % 4 != 0)
        out, st = lfsr16_step(p, st, Lfsr16In(en=en))
        k += en
        if k < 50:
            assert out.state == seq[k]
