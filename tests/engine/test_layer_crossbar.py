"""The crossbar backend of the layer: options the fused read path cannot model are refused by
name, and a device fitted with `hwsnn device fit` runs in `hwsnn run`'s network."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.config import load_config
from hwsnn.engine.layer import LayerNetwork
from hwsnn.errors import ConfigError

SMALL = {"network.n_exc": 4, "task.n_train": 10}


@pytest.mark.parametrize("path, value", [
    ("synapse.crossbar.io.ir_drop", True),
    ("synapse.crossbar.io.dac_bits", 4),
    ("synapse.crossbar.mapping.scheme", "reference"),
])
def test_unmodelled_periphery_is_refused_by_name(path, value):
    extra = {"synapse.crossbar.io.adc_bits": 8} if path.endswith("adc_clip") else {}
    cfg = load_config(None, {**SMALL, path: value, **extra})
    with pytest.raises(ConfigError) as ei:
        LayerNetwork(cfg, 16, seed=0)
    assert ei.value.field == path


def test_per_device_read_noise_is_refused_by_name():
    # the fused read draws one column-sum Gaussian; per-device draws are Crossbar.read's fallback only
    cfg = load_config(None, {**SMALL, "synapse.crossbar.io.read_noise": "device"})
    with pytest.raises(ConfigError) as ei:
        LayerNetwork(cfg, 16, seed=0)
    assert ei.value.field == "synapse.crossbar.io.read_noise"


def test_time_dependent_read_noise_is_refused():
    cfg = load_config(None, {**SMALL, "synapse.device.preset": "aihwkit_pcm"})
    p = cfg.synapse.device.resolve()
    if p.read_noise_model == "normal" or p.read_noise == 0:
        pytest.skip("the PCM preset has no time-dependent read noise here")
    with pytest.raises(ConfigError, match="read_noise_model"):
        LayerNetwork(cfg, 16, seed=0)


def test_fitted_device_file_runs_in_the_network(tmp_path):
    # measurements of simulated devices -> `hwsnn device fit` -> its parameter file as synapse.device.file
    from hwsnn.cli import main
    from hwsnn.devices import DeviceArray, get_preset

    arr = DeviceArray(get_preset("sto"), shape=(1, 4), seed=3)
    rows = ["experiment,device,x,g"]
    for x in range(60):
        for d, g in enumerate(arr.conductance().ravel()):
            rows.append(f"ltp,{d},{x},{float(g)!r}")
        arr.pulse(np.ones((1, 4), np.int64))
    for x in range(60):
        for d, g in enumerate(arr.conductance().ravel()):
            rows.append(f"ltd,{d},{x},{float(g)!r}")
        arr.pulse(-np.ones((1, 4), np.int64))
    csv = tmp_path / "meas.csv"
    csv.write_text("\n".join(rows) + "\n")
    assert main(["device", "fit", str(csv), "--out", str(tmp_path / "fit")]) == 0
    params = tmp_path / "fit" / "device_params.json"
    cfg = load_config(None, {**SMALL, "synapse.device.file": str(params)})
    net = LayerNetwork(cfg, 16, seed=0)
    counts = net.present(np.full(16, 0.5))
    assert counts.shape == (4,)
    assert net.xb.params == cfg.synapse.device.resolve() != get_preset("sto")


def _noisy_cfg(**extra):
    return load_config(None, {**SMALL, "network.n_exc": 6, "synapse.crossbar.io.adc_bits": 6,
                              "synapse.crossbar.io.adc_range": [-0.5, 4.0], "synapse.crossbar.io.out_noise": 0.02,
                              "synapse.device.params.read_noise": 0.05, "synapse.device.params.read_noise_add": 0.002,
                              **extra})


def test_fused_input_is_the_crossbars_own_column_read():
    """Every step's excitatory input in the kernel equals ``Crossbar.read_currents`` of that step's
    active rows (same read key and counter), scaled to the layer's weights: the fused path and
    ``Crossbar`` reads are one read path (cell variances with the real ``G-``, output noise, ADC
    with its range)."""
    net = LayerNetwork(_noisy_cfg(), 12, seed=3, record=True)
    xb = net.xb
    # a twin crossbar in the same state answers the reads the kernel made
    twin = LayerNetwork(_noisy_cfg(), 12, seed=3).xb
    rng = np.random.default_rng(0)
    raster = (rng.random((net.n_on, 12)) < 0.15).astype(np.uint8)
    raster[5] = 0  # a step without input must not consume a read
    _k, r0 = xb.read_key
    net.present_raster(raster, learn=False)
    ge = net.record.ge
    dge = net.ec.dge
    prev = np.zeros(net.n_exc)
    gain = net._gain if net._gain.shape[0] == net.n_exc else 1.0  # the digital per-column input gain
    n_reads = 0
    for t in range(net.n_on):
        rows = np.flatnonzero(raster[t])
        got = ge[t] - np.where(prev * dge > 1e-30, prev * dge, 0.0)
        prev = ge[t]
        if rows.size == 0:
            np.testing.assert_allclose(got, 0.0, atol=1e-12)
            continue
        y = twin.read_currents(rows) * net.w_max
        n_reads += 1
        np.testing.assert_allclose(got, net.net.eff * gain * np.maximum(y, 0.0), rtol=1e-9, atol=1e-12, err_msg=f"step {t}")
    assert n_reads > 10
    assert xb.read_key[1] == r0 + n_reads  # the kernel's reads advanced the crossbar's read counter


def test_cached_read_model_follows_the_devices():
    """After learning writes and an idle period the kernel's cached per-cell weights and variances
    equal the crossbar's read model (no stale cache)."""
    net = LayerNetwork(_noisy_cfg(), 12, seed=1)
    rng = np.random.default_rng(1)
    for _ in range(3):
        net.present(rng.random(12), learn=True)
    net.write_back.idle(60.0)
    w, v = net.xb.read_model()
    np.testing.assert_allclose(net.w, w * net.w_max, rtol=1e-12)
    np.testing.assert_allclose(net.wv, v * net.w_max**2, rtol=1e-12)
    # the variance uses both devices of a pair: it exceeds the G+-only variance wherever G- > 0
    assert np.all(v > 0)
