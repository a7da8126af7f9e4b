"""`hwsnn pdlf`: a tiny end-to-end run, the results folder, and bad input named by field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hwsnn.cli import main

TINY = """
[task]
name = "memory"
n_items = 3
n_out = 3
n_in = 12
n_active = 3
steps = 8
gap = 2
latency = 5

[evolve]
generations = 1
episodes = 1
seeds = [0]
weights_generations = 1

[pgpe]
pop_size = 4

[evaluate]
episodes = 2

[fastweights]
learner = "learned"
biases = [0.0]
latencies = [0.0, 1.0]
episodes = 2
"""


@pytest.mark.parametrize("scope, init", [("layer", "zero"), ("synapse", "zero"), ("synapse", "layer")])
def test_evolve_end_to_end(tmp_path, capsys, scope, init):
    cfg = tmp_path / "tiny.toml"
    text = TINY.replace('latency = 5\n', f'latency = 5\ncoefficient_scope = "{scope}"\n')
    cfg.write_text(text.replace("weights_generations = 1\n",
                                f'weights_generations = 1\ninit = "{init}"\nsynapse_generations = 1\n'))
    out = tmp_path / "out"
    assert main(["pdlf", "evolve", str(cfg), "--out", str(out), "--json", "--no-progress"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(last["table"]) == ({"learned", "learned_int", "stdp", "stdp_int", "weights", "untrained"}
                                  | ({"learned_layer"} if init == "layer" else set()))
    res = json.loads((out / "results.json").read_text())
    assert res["table"]["untrained"]["accuracy_mean"] == pytest.approx(1 / 3)  # zero weights: ties
    for f in ("manifest.json", "summary.md", "coefficients.png", "memory.png"):
        assert (out / f).is_file()
    c = res["seeds"][0]["coefficients"]
    if scope == "synapse":  # one (n_in, n_out) matrix per coefficient, summarised as mean ± std
        assert np.asarray(c["A"]).shape == (12, 3) and len(res["seeds"][0]["genome"]) == 4 * 36
        assert np.asarray(res["seeds"][0]["integer_twin"]["event"]["M_B"]).shape == (12, 3)
        assert " ± " in (out / "summary.md").read_text().split("| seed |")[1]
        assert last["coefficients"][0]["A"]["shape"] == [12, 3]  # the one-line summary stays short
    else:
        assert isinstance(c["A"], float) and len(res["seeds"][0]["genome"]) == 4
    if init == "layer":
        # the per-synapse stage started at the per-layer stage's coefficients on every synapse
        stage = res["seeds"][0]["layer_stage"]
        first = np.asarray(res["seeds"][0]["history"][0]["center"])
        assert len(stage["genome"]) == 4
        assert np.abs(first - np.repeat(stage["genome"], 36)).max() < 0.5
        assert np.abs(first - np.repeat(stage["genome"], 36)).max() > 0  # and moved from there
    else:
        assert "layer_stage" not in res["seeds"][0]
    assert not (out / "INCOMPLETE").exists()


@pytest.mark.parametrize("text, field", [
    ("[task]\nname = 'memory'\nn_items = 0\n", "task.n_items"),
    ("[task]\nname = 'chess'\n", "task.name"),
    ("[evolve]\ngenerations = -1\n", "evolve.generations"),
    ("[pgpe]\npop_size = 5\n", "pgpe.pop_size"),
    ("[bogus]\nx = 1\n", "bogus"),
    ("[fastweights]\nbiases = [0.0]\n", "fastweights"),
    ("[task]\nname = 'memory'\n[fastweights]\nlatencies = [1.0, 0.5]\n", "fastweights.latencies"),
    ("[task]\nname = 'memory'\n[fastweights]\nrule = { E = 1.0 }\n", "fastweights.rule"),
    ("task = 3\n", "task"),
    ("[evolve]\ninit = 'layer'\n", "evolve.init"),
    ("[task]\ncoefficient_scope = 'cell'\n", "task.coefficient_scope"),
])
def test_bad_config_names_field(tmp_path, capsys, text, field):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert main(["pdlf", "evolve", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and field in err[0], err


def test_unknown_config_and_flags(tmp_path, capsys):
    assert main(["pdlf", "evolve", "nosuchpreset", "--out", str(tmp_path / "o")]) == 2
    assert "config" in capsys.readouterr().err
    assert main(["pdlf", "evolve", "--workers", "-1"]) == 2
    assert "--workers" in capsys.readouterr().err
    cfg = tmp_path / "d.toml"
    cfg.write_text("[task]\nname = 'digits'\n")
    assert main(["pdlf", "fastweights", str(cfg), "--out", str(tmp_path / "o2")]) == 2
    assert "task.name" in capsys.readouterr().err


def test_every_shipped_evolve_config_validates():
    # the presets are documented commands: each must load (task, outer loop, evaluation)
    import tomllib
    from pathlib import Path

    import hwsnn
    from hwsnn.pdlf.outer import load_experiment

    files = sorted((Path(hwsnn.__file__).parent / "configs" / "pdlf").glob("*.toml"))
    assert len(files) >= 7
    for f in files:
        data = tomllib.loads(f.read_text())
        data.pop("description", None)
        cfg, task = load_experiment(data)
        if f.stem.endswith("_synapse"):
            assert task.coefficient_scope == "synapse" and cfg.evolve.init == "layer"
