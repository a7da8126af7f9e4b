"""End to end: the learning core learns 8x8 digits (64 inputs, 16 neurons, >= 50 training samples)
in co-simulation and is evaluated; its receptive fields and accuracy are compared with the float
twin of its algorithm on the same data and schedule.  The RTL run is checked against the golden
co-simulation exactly on the way."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.cli.cosim import run_cosim
from hwsnn.cosim import digits as D
from hwsnn.cosim.config import config_from_dict


def _cfg(preset="ideal", sim="verilator", train=50, test=50):
    return config_from_dict({"cosim": {"preset": preset, "task": "digits", "sim": sim},
                             "digits": {"train_samples": train, "test_samples": test}})


def test_schedule_phases_and_float_twin():
    cfg = _cfg()
    sch = D.schedule(cfg.digits)
    L = cfg.digits.steps_per_sample + cfg.digits.rest_steps
    assert sch.in_spikes.shape == ((2 * 50 + 50) * L, 64) and sch.learn.sum() == 50 * L
    assert (sch.learn[sch.phase != 0] == 0).all() and sch.in_spikes[sch.sample < 0].sum() == 0
    f = D.run_float(cfg.core, 8.0 / 255, sch)
    ev = D.evaluate(f["spikes"].astype(np.int64), sch)
    assert 0.0 <= ev["accuracy"] <= 1.0 and ev["train_spikes"] > 0
    assert not np.allclose(f["w"], D.initial_weights(cfg.core))  # it learned something
    same = D.compare_fields(D.receptive_fields(f["w"], 100), D.receptive_fields(f["w"], 100))
    assert same["matched_corr"] == pytest.approx(1.0)


def test_golden_core_learns_digits_above_chance():
    # the golden co-simulation (same core, same crossbar agent) on the default digits schedule:
    # 100 training digits, 100 test digits, 10 classes (chance 0.1)
    from hwsnn.cosim.run import job_from_config, run_golden_job

    cfg = config_from_dict({"cosim": {"preset": "ideal", "task": "digits"}})
    assert cfg.core.WTA == 1 and cfg.core.RULE == 1 and cfg.core.IP_EN == 2
    sch = D.schedule(cfg.digits)
    rec = run_golden_job(job_from_config(cfg, in_spikes=sch.in_spikes, learn=sch.learn))
    ev = D.evaluate(rec.spikes.astype(np.int64), sch)
    assert ev["accuracy"] >= 0.3 and ev["classes_covered"] >= 6, ev
    # the learned receptive fields differ from neuron to neuron (no clones)
    fields = D.receptive_fields(_device_w(rec, cfg), 1.0).reshape(cfg.core.N, -1)
    c = np.corrcoef(fields)
    assert np.max(c[np.triu_indices(cfg.core.N, 1)]) < 0.99


def _device_w(rec, cfg):
    from hwsnn.cli.cosim import _device_weights
    from hwsnn.cosim.run import job_from_config

    return _device_weights(rec, job_from_config(cfg, in_spikes=np.zeros((1, 64), np.int8)))


@pytest.mark.rtl
def test_digits_cosim_vs_float(sim_tool, tmp_path):
    sim_tool("verilator")
    s = run_cosim(_cfg(), out=tmp_path)
    assert s["equivalent"] is True, s["first_mismatch"]
    d = s["digits"]
    assert d["train_samples"] >= 50 and d["test_samples"] == 50
    assert d["cosim"]["train_spikes"] > 0 and d["classes_covered_cosim"] >= 3
    assert d["receptive_fields"]["matched_corr"] > 0.3  # the co-simulated core learns what its float twin learns
    assert (tmp_path / "receptive_fields.png").is_file()
    print(f"digits ideal: accuracy cosim {d['accuracy_cosim']:.2f} float {d['accuracy_float']:.2f}, "
          f"RF matched corr {d['receptive_fields']['matched_corr']:.2f}, {s['throughput']['timesteps_per_s']} ts/s")


@pytest.mark.slow
@pytest.mark.rtl
def test_digits_cosim_sto_vs_float(sim_tool, tmp_path):
    sim_tool("verilator")
    s = run_cosim(_cfg("sto", train=60, test=100), out=tmp_path)
    assert s["equivalent"] is True
    assert s["digits"]["receptive_fields"]["matched_corr"] > 0.2
