"""lfsr16 component in Amaranth's simulator against the golden model (no external simulator)."""

import pytest

from hwsnn.golden.lfsr import Lfsr16In, lfsr16_reset, lfsr16_step
from hwsnn.hw.amaranth_sim import Mismatch, check_cycles
from hwsnn.hw.lfsr import Lfsr16
from hwsnn.spec.lfsr import LFSR_TAPS
from hwsnn.spec.units import Lfsr16Params


class Model:
    def __init__(self, p):
        self.p, self.s = p, lfsr16_reset(p)

    def step(self, vec):
        if vec["rst"]:
            self.s = lfsr16_reset(self.p)
            return {"state": self.s.state}
        out, self.s = lfsr16_step(self.p, self.s, Lfsr16In(en=vec["en"]))
        return out._asdict()


def stim(rng, cycle):
    return {"rst": int(rng.random() < 0.01), "en": int(rng.random() < 0.85)}


@pytest.mark.parametrize("seed_value", [0xACE1, 0x0001, 0xFFFF])
def test_lfsr16_matches_golden(seed_value):
    p = Lfsr16Params(LFSR_SEED=seed_value)
    n = check_cycles(Lfsr16(LFSR_SEED=seed_value), inputs=["en"], outputs=["state"], model_step=Model(p).step,
                     stimulus=stim, cycles=3000, seed=seed_value)
    assert n == 3000


def test_wrong_tap_mutant_is_caught():
    with pytest.raises(Mismatch) as exc:
        check_cycles(Lfsr16(taps=LFSR_TAPS ^ 0x0001), inputs=["en"], outputs=["state"],
                     model_step=Model(Lfsr16Params()).step, stimulus=stim, cycles=3000)
    assert exc.value.cycle < 100


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_constructor_validates_keyword_only_seed():
    from hwsnn.errors import ConfigError

    with pytest.raises(ConfigError, match="LFSR_SEED"):
        Lfsr16(LFSR_SEED=0)
    with pytest.raises(TypeError):
        Lfsr16(0xACE1)  # keyword-only
