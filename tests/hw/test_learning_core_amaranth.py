"""learning_core in Amaranth's simulator with the crossbar agent in the loop, against the golden
co-simulation (no external simulator): small and default sizes, read latency and back-pressure,
every deliberate mutant caught, constructor validation."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.cosim.agent import CrossbarAgent
from hwsnn.cosim.amaranth_run import run_amaranth
from hwsnn.cosim.record import compare, run_golden
from hwsnn.crossbar import CrossbarConfig, IOConfig
from hwsnn.devices import get_preset
from hwsnn.errors import ConfigError
from hwsnn.hw.learning_core import LearningCore
from hwsnn.hw.registry import get
from hwsnn.spec.core import LearningCoreParams
from hwsnn.spec.units import StdpUpdateParams

SMALL = LearningCoreParams(N=4, M=8, INHIB=30)
XB = CrossbarConfig(io=IOConfig(adc_bits=8, adc_range=(0.0, 4.0)))


def _inputs(p, T, rate=0.3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((T, p.M)) < rate).astype(np.int64), (np.arange(T) % 20 < 14).astype(np.int64)


def _pair(p, cls, T, device="sto", **kw):
    sp, learn = _inputs(p, T)
    gold = run_golden(p, CrossbarAgent(p, get_preset(device), XB, seed=3), sp, snapshot_every=20, learn=learn)
    rtl = run_amaranth(cls(**p.as_dict()), CrossbarAgent(p, get_preset(device), XB, seed=3), sp, learn=learn,
                       snapshot_every=20, **kw)
    return gold, rtl


@pytest.mark.parametrize("kw", [{}, {"read_latency": 3, "backpressure": 0.4, "seed": 5}], ids=["no_stall", "stalls"])
def test_small_core_equals_golden_sto(kw):
    gold, rtl = _pair(SMALL, LearningCore, 80, **kw)
    c = compare(gold, rtl)
    assert c["equivalent"], c["first_mismatch"]
    assert c["checked"] > 1000 and rtl.extra["cycles"] > 80 * 20
    assert gold.spikes.sum() > 0 and (gold.commands[:, 4] > 0).all()
    assert {0, 1} <= set(gold.commands[gold.commands[:, 0] >= 0, 3].tolist())  # SETs and RESETs while learning


SMALL_INSTAR = LearningCoreParams(N=4, M=8, INHIB=60, WTA=1, RULE=1, X_TH=100, INSTAR_SHIFT=2, IP_EN=2,
                                  lif={"WINDOW": 10, "RATE_HI": 1, "RATE_LO": 1, "LEVELS": 4})


@pytest.mark.parametrize("kw", [{}, {"read_latency": 2, "backpressure": 0.3, "seed": 7}], ids=["no_stall", "stalls"])
def test_small_core_wta_instar_ip_gated_equals_golden(kw):
    gold, rtl = _pair(SMALL_INSTAR, LearningCore, 80, **kw)
    c = compare(gold, rtl)
    assert c["equivalent"], c["first_mismatch"]
    sp = gold.spikes
    assert sp.sum() > 0 and c["checked"] > 1000
    learn_cmds = gold.commands[gold.commands[:, 0] >= 0]
    assert {0, 1} <= set(learn_cmds[:, 3].tolist())  # instar both potentiates and depresses
    # every instar command addresses a column that spiked in its timestep (post-only rule)
    t, col = learn_cmds[:, 0], learn_cmds[:, 2]
    assert (sp[t, col] == 1).all()


SMALL_GATED = LearningCoreParams(N=4, M=8, INHIB=60, RULE=2, GATED_STEP=2, W_INIT_MAX=40,
                                 lif={"WINDOW": 10, "RATE_HI": 1, "RATE_LO": 1, "LEVELS": 4, "LEARN_UP": 60,
                                      "LEARN_DN": 150})


@pytest.mark.parametrize("kw", [{}, {"read_latency": 2, "backpressure": 0.3, "seed": 7}], ids=["no_stall", "stalls"])
def test_small_core_gated_stepwise_rule_equals_golden(kw):
    gold, rtl = _pair(SMALL_GATED, LearningCore, 80, **kw)
    c = compare(gold, rtl)
    assert c["equivalent"], c["first_mismatch"]
    assert gold.spikes.sum() > 0 and c["checked"] > 1000
    learn_cmds = gold.commands[gold.commands[:, 0] >= 0]
    assert {0, 1} <= set(learn_cmds[:, 3].tolist())  # learn_up potentiates, learn_dn depresses
    steps = learn_cmds[:, 4]
    assert (steps <= 2).all() and (steps == 2).mean() > 0.5  # one GATED_STEP (less only at a bound) per move


def test_default_core_equals_golden_ideal_short():
    p = LearningCoreParams(INHIB=50)
    sp, learn = _inputs(p, 25, rate=0.1)
    xb = CrossbarConfig(io=IOConfig(adc_bits=8, adc_range=(0.0, 4.0)))
    gold = run_golden(p, CrossbarAgent(p, get_preset("ideal"), xb, seed=1), sp, learn=learn)
    rtl = run_amaranth(LearningCore(**p.as_dict()), CrossbarAgent(p, get_preset("ideal"), xb, seed=1), sp, learn=learn,
                       backpressure=0.2)
    c = compare(gold, rtl)
    assert c["equivalent"], c["first_mismatch"]
    assert gold.spikes.sum() > 0


@pytest.mark.parametrize("name", list(get("learning_core").mutant_table()))
def test_every_core_mutant_is_caught(name):
    from sim.mutants_learning_core import COMPETITIVE, GATED

    cls, what = get("learning_core").mutant_table()[name]
    p = SMALL_INSTAR if name in COMPETITIVE else (SMALL_GATED if name in GATED else SMALL)
    gold, rtl = _pair(p, cls, 60, read_latency=2, backpressure=0.3)
    c = compare(gold, rtl)
    assert not c["equivalent"], f"mutant {name} ({what}) survived"
    assert c["first_mismatch"] is not None


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_constructor_keyword_only_validated_and_ports_derived():
    with pytest.raises(TypeError):
        LearningCore(16)
    with pytest.raises(ConfigError, match="W_INIT_MAX"):
        LearningCore(W_INIT_MAX=500)
    with pytest.raises(ConfigError, match="IP_EN"):
        LearningCore(IP_EN=3)
    with pytest.raises(ConfigError, match="X_TH"):
        LearningCore(X_TH=256)
    with pytest.raises(ConfigError, match="RULE"):
        LearningCore(RULE=3)
    with pytest.raises(ConfigError, match="update.X_BITS"):
        LearningCore(update=StdpUpdateParams(X_BITS=6))
    c = LearningCore(N=5, M=33, ADC_BITS=6)
    assert len(c.in_spikes) == 33 and len(c.rd_req_rows) == 33 and len(c.rd_resp_codes) == 30
    assert len(c.pg_row) == 6 and len(c.pg_col) == 3 and len(c.out_spikes) == 5 and len(c.pg_count) == 8
    assert c.params == LearningCoreParams(N=5, M=33, ADC_BITS=6)
