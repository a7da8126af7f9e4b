"""iCE40 HX8K synthesis of the default units: issue #5 targets and no growth > 10% beyond the
recorded figures in hwsnn/hw/synth_budget.json."""

from __future__ import annotations

import pytest

from hwsnn.hw.synth import TARGETS, load_budget, report, synth_unit
from hwsnn.toolchain import nextpnr_ice40, yosys

pytestmark = pytest.mark.synth

UNITS = ["lfsr16", "lif_stepwise", "stdp_trace", "stdp_update", "learning_core"]


@pytest.fixture(scope="module")
def synth_report():
    for t in (yosys(), nextpnr_ice40()):
        if not t.ok:
            pytest.skip(f"{t.name} not available: {t.reason} (fix: {t.fix})")
    return report(units=UNITS, seeds=(1,))


def _limit(recorded: int) -> int:
    # 10% growth allowed; at least one cell for the tiny counts
    return max(int(recorded * 1.10), recorded + 1)


def test_targets_met(synth_report):
    rows = {r["unit"]: r for r in synth_report["rows"]}
    for unit, target in TARGETS.items():
        for key in ("lut4", "lc", "bram"):
            if f"{key}_max" in target:
                assert rows[unit][key] <= target[f"{key}_max"], (unit, key, rows[unit])
        if "fmax_min_mhz" in target:
            assert rows[unit]["fmax_mhz"] >= target["fmax_min_mhz"], (unit, rows[unit])


def test_no_unit_grew_beyond_recorded_budget(synth_report):
    budget = load_budget()
    if budget["tools"] != synth_report["tools"]:
        pytest.skip(f"budget recorded with {budget['tools']}, this run uses {synth_report['tools']}")
    for row in synth_report["rows"]:
        rec = budget["units"][row["unit"]]
        for key in ("lut4", "carry", "ff", "lc", "bram"):
            if key not in rec:
                continue
            assert row[key] <= _limit(rec[key]), f"{row['unit']}: {key} {row[key]} > recorded {rec[key]} + 10%"
        assert row["fmax_mhz"] >= 0.9 * rec["fmax_mhz"], f"{row['unit']}: fmax {row['fmax_mhz']} vs {rec['fmax_mhz']}"


def test_budget_check_catches_a_bigger_design(synth_report):
    # a deliberately wider datapath must trip the 10% check
    from hwsnn.spec.units import LifStepwiseParams

    big = synth_unit("lif_stepwise", LifStepwiseParams(V_BITS=24), seeds=(1,))
    rec = load_budget()["units"]["lif_stepwise"]
    assert big["lut4"] > _limit(rec["lut4"]) or big["carry"] > _limit(rec["carry"])
