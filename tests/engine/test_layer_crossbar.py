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
    ("synapse.crossbar.io.out_noise", 0.01),
    ("synapse.crossbar.io.dac_bits", 4),
    ("synapse.crossbar.mapping.scheme", "reference"),
])
def test_unmodelled_periphery_is_refused_by_name(path, value):
    extra = {"synapse.crossbar.io.adc_bits": 8} if path.endswith("adc_clip") else {}
    cfg = load_config(None, {**SMALL, path: value, **extra})
    with pytest.raises(ConfigError) as ei:
        LayerNetwork(cfg, 16, seed=0)
    assert ei.value.field == path


def test_adc_without_saturation_is_refused():
    cfg = load_config(None, {**SMALL, "synapse.crossbar.io.adc_bits": 8, "synapse.crossbar.io.adc_clip": "none"})
    with pytest.raises(ConfigError, match="synapse.crossbar.io.adc_clip"):
        LayerNetwork(cfg, 16, seed=0)


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
