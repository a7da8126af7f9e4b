"""`hwsnn compare`: spec validation, paired seeds, the table, claim verdicts, and a tiny real run."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hwsnn.cli import main
from hwsnn.compare import evaluate_claims, parse_compare_spec, plan_sweeps, summarise
from hwsnn.compare.run import NOMINAL, summarise_robustness
from hwsnn.errors import ConfigError
from hwsnn.sweep import plan_units

TINY = {"task.n_train": 20, "task.n_test": 20, "task.epochs": 1, "task.curve_points": 1, "network.n_exc": 6}


def doc(**kw):
    d = {"name": "tiny", "set": dict(TINY), "repeats": 2,
         "mechanisms": [{"name": "stdp", "base": "default"},
                        {"name": "fast", "base": "default", "set": {"rules[0].nu_post": 0.05}}],
         "datasets": ["digits"], "backends": ["ideal"]}
    d.update(kw)
    return d


@pytest.mark.parametrize("change, field", [
    ({"mechanisms": []}, "mechanisms"),
    ({"mechanisms": [{"name": "a"}, {"name": "a"}]}, "mechanisms[1].name"),
    ({"mechanisms": [{"name": "a b"}]}, "mechanisms[0].name"),
    ({"datasets": ["cifar"]}, "datasets[0]"),
    ({"backends": ["ideal", "ideal"]}, "backends"),
    ({"robustness": [{"path": "synapse.device.params.d2d", "values": [0.0]}]}, "robustness[0].values"),
    ({"robustness": [{"path": "task.dataset", "values": ["digits", "mnist"]}]}, "robustness[0].path"),
    ({"robustness": [{"path": "synapse.device.params.d2d", "values": [0.0, 0.1], "backends": ["crossbar"]}]},
     "robustness[0].backends[0]"),
    ({"claims": [{"text": "x", "better": "nope", "than": "stdp", "dataset": "digits", "backend": "ideal"}]},
     "claims[0].better"),
    ({"claims": [{"text": "x", "better": "stdp", "than": "stdp", "dataset": "digits", "backend": "ideal"}]},
     "claims[0].than"),
    ({"claims": [{"text": "x", "better": "fast", "than": "stdp", "dataset": "digits", "backend": "ideal",
                  "path": "network.efficacy", "value": 1.0}]}, "claims[0].path"),
    ({"set": {"synapse.backend": "crossbar"}}, "set.synapse.backend"),
    ({"repeats": 0}, "repeats"),
    ({"dataset_set": {"mnist": {"network.efficacy": 3.0}}}, "dataset_set.mnist"),
])
def test_spec_errors_name_the_field(change, field):
    with pytest.raises(ConfigError) as ei:
        parse_compare_spec(doc(**change))
    assert ei.value.field == field


def test_cell_configs_fail_early_naming_the_mechanism():
    spec, _ = parse_compare_spec(doc(mechanisms=[{"name": "bad", "set": {"network.n_exc": 0}}]))
    with pytest.raises(ConfigError) as ei:
        plan_sweeps(spec)
    assert ei.value.field == "mechanisms[0]" and "network.n_exc" in str(ei.value)


def test_every_mechanism_gets_the_same_seeds_in_every_cell():
    spec, _ = parse_compare_spec(doc(backends=["ideal", "crossbar"], robustness=[
        {"path": "synapse.device.params.d2d", "values": [0.0, 0.2], "backends": ["crossbar"]}]))
    sweeps = plan_sweeps(spec)
    assert [(m, d, a) for m, d, a, _ in sweeps] == [
        ("stdp", "digits", NOMINAL), ("stdp", "digits", "r0-synapse_device_params_d2d"),
        ("fast", "digits", NOMINAL), ("fast", "digits", "r0-synapse_device_params_d2d")]
    by = {(m, a): plan_units(rs) for m, _, a, rs in sweeps}
    for axis in (NOMINAL, "r0-synapse_device_params_d2d"):
        a, b = by[("stdp", axis)], by[("fast", axis)]
        assert [(u.values, u.seed) for u in a] == [(u.values, u.seed) for u in b]  # paired
        assert len({u.seed for u in a}) == spec.repeats  # one seed per repeat, shared by the cells
        # the mechanisms differ only where they say so
        assert all(u.config["rules"][0]["nu_post"] == 0.05 for u in b)
        assert all(u.config["task"]["baseline"] == "none" for u in a + b)
    assert len(by[("stdp", NOMINAL)]) == 2 * 2 and len(by[("stdp", "r0-synapse_device_params_d2d")]) == 2 * 2
    assert all(u.config["task"]["dataset"] == "digits" for us in by.values() for u in us)
    # k-means once: the first mechanism's nominal sweep
    assert all(u.config["task"]["kmeans"] for u in by[("stdp", NOMINAL)])
    assert not any(u.config["task"]["kmeans"] for k, us in by.items() if k != ("stdp", NOMINAL) for u in us)


def _frame(acc: dict[str, list[float]], seeds=(11, 12, 13, 14)) -> pd.DataFrame:
    rows = []
    for mech, vals in acc.items():
        for s, v in zip(seeds, vals):
            rows.append({"mechanism": mech, "axis": NOMINAL, "task.dataset": "digits", "synapse.backend": "ideal",
                         "seed": s, "status": "ok", "accuracy": v, "wall_s": 1.0, "kmeans_accuracy": 0.9})
    return pd.DataFrame(rows)


def test_claim_verdicts_follow_a_paired_one_sided_t_test():
    spec, _ = parse_compare_spec(doc(claims=[
        {"text": "fast beats stdp", "better": "fast", "than": "stdp", "dataset": "digits", "backend": "ideal"},
        {"text": "stdp beats fast", "better": "stdp", "than": "fast", "dataset": "digits", "backend": "ideal"}]))
    base = [0.80, 0.70, 0.75, 0.90]
    gain = [0.03, 0.01, 0.02, 0.04]  # small but consistent: only a paired test sees it
    df = _frame({"stdp": base, "fast": [b + g for b, g in zip(base, gain)]})
    up, down = evaluate_claims(spec, df)
    d = np.array(gain)
    t = d.mean() / (d.std(ddof=1) / math.sqrt(d.size))
    from scipy.stats import t as student

    assert up["p"] == pytest.approx(student.sf(t, d.size - 1), rel=1e-9)
    assert up["verdict"] == "reproduced" and up["diff_mean"] == pytest.approx(d.mean())
    assert down["verdict"] == "not reproduced" and down["p"] == pytest.approx(1 - up["p"], rel=1e-9)
    # an unpaired seed is left out; fewer than two pairs cannot be tested
    few = df[~((df["mechanism"] == "fast") & (df["seed"] > 11))]
    assert evaluate_claims(spec, few)[0]["verdict"].startswith("not testable")


def test_table_has_mean_std_per_cell_and_one_kmeans_row():
    spec, _ = parse_compare_spec(doc())
    t = summarise(spec, _frame({"stdp": [0.8, 0.9, 0.7, 0.6], "fast": [0.5, 0.5, 0.5, 0.5]}))
    assert t["mechanism"].tolist() == ["stdp", "fast", "k-means"]
    row = t.iloc[0]
    assert row["accuracy_mean"] == pytest.approx(0.75) and row["accuracy_std"] == pytest.approx(np.std([.8, .9, .7, .6], ddof=1))
    assert t.iloc[2]["accuracy_mean"] == pytest.approx(0.9) and t.iloc[2]["seeds"] == 4


def test_robustness_table_is_mean_std_per_axis_value():
    # two mechanisms on a two-value axis, a failed unit left out; the figures and summary.md read it
    spec, _ = parse_compare_spec(doc(backends=["ideal", "crossbar"], robustness=[
        {"path": "synapse.device.params.d2d", "values": [0.0, 0.3], "backends": ["crossbar"]}]))
    rows = []
    acc = {("stdp", 0.0): [0.8, 0.7, 0.9], ("stdp", 0.3): [0.6, 0.5, 0.4],
           ("fast", 0.0): [0.85, 0.75, 0.8], ("fast", 0.3): [0.7, 0.72, 0.1]}
    for (m, v), vals in acc.items():
        for s, a in zip((1, 2, 3), vals):
            rows.append({"mechanism": m, "axis": "r0-synapse_device_params_d2d", "task.dataset": "digits",
                         "synapse.backend": "crossbar", "synapse.device.params.d2d": v, "seed": s,
                         "status": "failed" if a == 0.1 else "ok", "accuracy": a, "wall_s": 1.0})
    rob = summarise_robustness(spec, pd.DataFrame(rows))
    assert len(rob) == 4 and rob["mechanism"].tolist() == ["stdp", "stdp", "fast", "fast"]
    r = rob[(rob["mechanism"] == "fast") & (rob["value"] == 0.3)].iloc[0]
    assert r["seeds"] == 2 and r["accuracy_mean"] == pytest.approx(0.71)
    assert r["accuracy_std"] == pytest.approx(np.std([0.7, 0.72], ddof=1))
    s0 = rob[(rob["mechanism"] == "stdp") & (rob["value"] == 0.0)].iloc[0]
    assert s0["accuracy_mean"] == pytest.approx(0.8) and s0["backend"] == "crossbar"


def test_tiny_comparison_end_to_end(tmp_path, capsys, monkeypatch):
    # every executor a run opens is counted: the comparison opens one for all its cells
    import hwsnn.sweep.runner as runner
    import hwsnn.sweep.work as work

    opened = []
    real = work.open_executor

    def counting(*a, **k):
        opened.append(a)
        return real(*a, **k)

    monkeypatch.setattr(work, "open_executor", counting)
    monkeypatch.setattr(runner, "open_executor", counting)
    spec_file = tmp_path / "tiny.toml"
    spec_file.write_text("""
name = "tiny"
repeats = 2
datasets = ["digits"]
backends = ["ideal"]
[set]
"task.n_train" = 20
"task.n_test" = 20
"task.epochs" = 1
"task.curve_points" = 1
"network.n_exc" = 6
[[mechanisms]]
name = "stdp"
[[mechanisms]]
name = "stdp_x3"
set = { "rules[0].nu_post" = 0.06 }
[[robustness]]
path = "network.efficacy"
values = [1.0, 3.0]
[[claims]]
text = "a faster potentiation helps (a claim to test, not a fact)"
better = "stdp_x3"
than = "stdp"
dataset = "digits"
backend = "ideal"
""")
    out = tmp_path / "out"
    rc = main(["compare", str(spec_file), "--out", str(out), "--workers", "0", "--no-progress", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["units"] == 2 * (2 + 2 * 2) and summary["failed"] == 0
    assert len(opened) == 1  # 4 cells (2 mechanisms x nominal + 1 axis), one executor
    df = pd.read_parquet(out / "results.parquet")
    assert len(df) == summary["units"] and (df["status"] == "ok").all()
    # paired: the same seeds in both mechanisms' nominal cells
    nom = df[df["axis"] == NOMINAL]
    assert sorted(nom[nom["mechanism"] == "stdp"]["seed"]) == sorted(nom[nom["mechanism"] == "stdp_x3"]["seed"])
    table = pd.read_csv(out / "table.csv")
    assert set(table["mechanism"]) == {"stdp", "stdp_x3", "k-means"}
    assert (out / "robustness_0_network_efficacy.png").stat().st_size > 0
    text = (out / "summary.md").read_text()
    assert "| stdp | digits | ideal |" in text and summary["claims"][0]["verdict"] in text
    # the robustness table: one row per mechanism, one column per axis value, from results.parquet
    rob = pd.read_csv(out / "robustness.csv")
    cell = df[(df["axis"] != NOMINAL) & (df["mechanism"] == "stdp_x3") & (df["network.efficacy"] == 3.0)]
    got = rob[(rob["mechanism"] == "stdp_x3") & (rob["value"] == 3.0)]["accuracy_mean"].item()
    assert got == pytest.approx(cell["accuracy"].mean()) and len(rob) == 4
    assert "## Robustness" in text and f"| stdp_x3 | {100 * rob['accuracy_mean'].iloc[2]:.1f} ± " in text
    assert (out / "manifest.json").exists() and not (out / "INCOMPLETE").exists()
    # re-running resumes: nothing left to do
    rc = main(["compare", str(spec_file), "--out", str(out), "--workers", "0", "--no-progress", "--json"])
    assert rc == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["table"] == summary["table"]


def test_bad_spec_is_one_line_error(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('[[mechanisms]]\nname = "a"\n[[mechanisms]]\nname = "a"\n')
    assert main(["compare", str(f), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "mechanisms[1].name" in err and "Traceback" not in err


def test_dataset_overrides_apply_to_their_dataset_only():
    spec, _ = parse_compare_spec(doc(datasets=["digits", "event_digits"],
                                     dataset_set={"event_digits": {"network.efficacy": 3.0}}))
    eff = {(m, d): {u.config["network"]["efficacy"] for u in plan_units(rs)} for m, d, _, rs in plan_sweeps(spec)}
    assert eff[("stdp", "digits")] == {2.0} and eff[("stdp", "event_digits")] == {3.0}
    assert eff[("fast", "event_digits")] == {3.0}


@pytest.mark.parametrize("name", ["mechanisms", "mechanisms_ideal", "mechanisms_mnist"])
def test_shipped_comparisons_plan_valid_cells(name):
    from hwsnn.compare import list_builtin_compare_specs, load_compare_spec

    assert name in list_builtin_compare_specs()
    spec, base_dir = load_compare_spec(name)
    sweeps = plan_sweeps(spec, base_dir)
    units = [u for *_, rs in sweeps for u in plan_units(rs)]
    assert len(units) == sum(len(plan_units(rs)) for *_, rs in sweeps) > 0
    assert {m.name for m in spec.mechanisms} == {m for m, *_ in sweeps}
