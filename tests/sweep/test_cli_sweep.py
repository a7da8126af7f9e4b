"""`hwsnn sweep` and `hwsnn plot` end to end (in this process, a tiny ideal-synapse config)."""

from __future__ import annotations

import pandas as pd

from hwsnn.cli import main

SPEC = """
name = "tiny"
repeats = 2
[set]
"task.n_train" = 20
"task.n_test" = 20
"task.epochs" = 1
"task.baseline" = "none"
"task.kmeans" = false
"task.curve_points" = 1
"network.n_exc" = 6
"synapse.backend" = "ideal"
[[axes]]
path = "network.efficacy"
values = [1.5, 2.5]
"""


def test_sweep_then_plot(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(SPEC)
    out = tmp_path / "res"
    assert main(["sweep", str(f), "--out", str(out), "--workers", "0", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "4 unit(s): 0 already stored, 4 run (4 ok, 0 failed)" in text
    assert "accuracy mean" in text
    df = pd.read_parquet(out)
    assert len(df) == 4 and (df["status"] == "ok").all()
    assert main(["sweep", str(f), "--out", str(out), "--workers", "0", "--no-progress"]) == 0
    assert "4 already stored, 0 run" in capsys.readouterr().out
    assert main(["plot", str(out)]) == 0
    files = capsys.readouterr().out.split()
    assert sorted(p.rsplit("/", 1)[-1] for p in files) == ["accuracy.png", "accuracy.svg"]
    assert (out / "_plots" / "accuracy.png").stat().st_size > 1000
    assert "<svg" in (out / "_plots" / "accuracy.svg").read_text()[:500]
    assert "efficacy" in (out / "_plots" / "accuracy.svg").read_text()  # the axis label


def test_bad_spec_is_one_line_naming_the_field(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(SPEC.replace('path = "network.efficacy"', 'path = "synapse.device.nu_mean"'))
    assert main(["sweep", str(f), "--out", str(tmp_path / "x"), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hwsnn sweep: error: axes[0].path: no field 'synapse.device.nu_mean'") and "\n" not in err
    assert not (tmp_path / "x").exists()


def test_dry_run_lists_units_and_builtin_specs_validate(capsys):
    from hwsnn.sweep import list_builtin_specs

    names = list_builtin_specs()
    assert {"weight_levels", "d2d_variation", "c2c_noise", "read_noise", "drift", "stuck_at"} <= set(names)
    for name in names:
        assert main(["sweep", name, "--dry-run"]) == 0
        assert "unit(s) valid" in capsys.readouterr().out
