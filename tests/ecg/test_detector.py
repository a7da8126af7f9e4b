"""The ECG detector: its integer network against a direct per-neuron loop of the golden
lif_stepwise step with the gated rule written out, sparse masks, the ROC against scikit-learn,
beat features against a direct count, config errors and determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from hwsnn.ecg.detector import (CONDITIONS, EcgConfig, NetworkConfig, beat_features, build_network, load_ecg_config,
                                load_record, random_structure, roc_curve, run_detector, summary_table)
from hwsnn.errors import ConfigError
from hwsnn.golden.lif_stepwise import LifStepwiseIn, lif_stepwise_reset, lif_stepwise_step
from hwsnn.spec.fixed import sat_signed

SMALL = NetworkConfig(form="integer", n_exc=14, n_inh=5, p_in=0.5, p_ee=0.3, p_ei=0.4, p_ie=0.4,
                      exc={"THETA_BASE": 256, "THETA_STEP": 64, "LEVELS": 4, "LEVEL_INIT": 1, "WINDOW": 8,
                           "RATE_HI": 1, "RATE_LO": 1, "LEARN_UP": 96, "LEARN_DN": 300})


def golden_reference(cfg: NetworkConfig, condition: str, raster: np.ndarray, learn: np.ndarray, seed: int):
    """The network written out: per neuron one ``lif_stepwise_step`` of the golden model per step,
    inputs summed from last step's spikes, and on a presynaptic spike each existing plastic synapse
    moves one code by its target's learning flags after this step's update."""
    ip, sp = "ip" in condition, "sp" in condition

    def one_level(p):  # no intrinsic plasticity: one level at the initial threshold
        return p.replace(THETA_BASE=p.THETA_BASE + p.LEVEL_INIT * p.THETA_STEP, LEVELS=1, LEVEL_INIT=0)

    P = {"exc": cfg.exc if ip else one_level(cfg.exc), "inh": one_level(cfg.inh)}
    masks, codes = random_structure(cfg, raster.shape[1], seed)
    q = {k: v.copy() for k, v in codes.items()}
    wm = cfg.w_max_code
    gains = {"in": cfg.drive_in // wm, "ee": cfg.drive_ee // wm, "ei": cfg.drive_ei // wm, "ie": cfg.drive_ie // wm}
    n = {"exc": cfg.n_exc, "inh": cfg.n_inh}
    st = {g: [lif_stepwise_reset(P[g]) for _ in range(n[g])] for g in n}
    prev = {"in": np.zeros(raster.shape[1], bool), "exc": np.zeros(n["exc"], bool), "inh": np.zeros(n["inh"], bool)}
    rec = np.zeros((raster.shape[0], n["exc"]), np.uint8)
    for t in range(raster.shape[0]):
        drive = {"exc": gains["in"] * q["in"][prev["in"]].sum(0) + gains["ee"] * q["ee"][prev["exc"]].sum(0)
                 - gains["ie"] * q["ie"][prev["inh"]].sum(0),
                 "inh": gains["ei"] * q["ei"][prev["exc"]].sum(0)}
        cur, flags = {"in": raster[t] > 0}, {}
        for g in ("exc", "inh"):
            outs = []
            for j in range(n[g]):
                i_syn = sat_signed(int(drive[g][j]), P[g].V_BITS)
                o, st[g][j] = lif_stepwise_step(P[g], st[g][j], LifStepwiseIn(step=1, i_syn=i_syn,
                                                                               ip_en=int(learn[t])))
                outs.append(o)
            cur[g] = np.array([o.spike for o in outs], bool)
            flags[g] = [(o.learn_up, o.learn_dn) for o in outs]
        if learn[t] and sp:
            for name, src in (("in", "in"), ("ee", "exc")):
                for i in np.flatnonzero(cur[src]):
                    for j in range(n["exc"]):
                        if masks[name][i, j]:
                            up, dn = flags["exc"][j]
                            dq = 1 if up else (-1 if dn else 0)
                            q[name][i, j] = min(max(q[name][i, j] + dq, 0), wm)
        rec[t] = cur["exc"]
        prev = cur
    levels = np.array([s.level for s in st["exc"]])
    return rec, q, levels


def _engine(cfg, condition, raster, learn, seed):
    b = build_network(cfg, raster.shape[1], condition, seed, 1 / 250)
    spikes = []
    t = 0
    while t < raster.shape[0]:  # runs of equal learning flag
        e = t
        while e < raster.shape[0] and learn[e] == learn[t]:
            e += 1
        spikes.append(b.net.run(e - t, {"in": raster[t:e]}, learning=bool(learn[t])).spikes["exc"])
        t = e
    q = {p.name: p.syn.q.copy() for p in b.net.projections}
    return np.concatenate(spikes), q, b.net.groups["exc"].s.level.copy()


@pytest.mark.parametrize("condition", ["ip+sp", "sp", "none"])
def test_integer_network_equals_golden_loop(condition):
    rng = np.random.default_rng(4)
    T = 160
    raster = (rng.random((T, 6)) < 0.25).astype(np.uint8)
    learn = np.r_[np.ones(110, bool), np.zeros(50, bool)]
    want_spk, want_q, want_lv = golden_reference(SMALL, condition, raster, learn, seed=3)
    got_spk, got_q, got_lv = _engine(SMALL, condition, raster, learn, seed=3)
    assert want_spk.sum() > 20  # the drive makes the neurons fire
    np.testing.assert_array_equal(got_spk, want_spk)
    for name in ("in", "ee", "ei", "ie"):
        np.testing.assert_array_equal(got_q[name], want_q[name], err_msg=name)
    np.testing.assert_array_equal(got_lv, want_lv)
    if "sp" in condition:
        _, q0 = random_structure(SMALL, 6, 3)
        assert np.any(want_q["in"] != q0["in"]) and np.any(want_q["ee"] != q0["ee"])
    if "ip" in condition:
        assert len(set(want_lv.tolist())) > 1


def test_masks_hold_sparse_structure_on_every_form():
    pytest.importorskip("hwsnn.crossbar")
    rng = np.random.default_rng(1)
    raster = (rng.random((150, 6)) < 0.3).astype(np.uint8)
    for form in ("float", "integer", "crossbar"):
        cfg = SMALL.replace(form=form, device="ideal")
        b = build_network(cfg, 6, "ip+sp", 2, 1 / 250)
        b.net.run(150, {"in": raster})
        for p in b.net.projections:
            w = p.syn.weights()
            m = b.masks[p.name]
            assert np.all(np.abs(w[~m]) < 1e-12), (form, p.name)
            assert np.all((w >= -1e-12) & (w <= 1 + 1e-12))
        assert not np.any(np.diag(b.masks["ee"]))


def test_roc_matches_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(5):
        y = (rng.random(200) < 0.3).astype(int)
        s = np.round(rng.normal(y * 0.8, 1.0), 1)  # ties
        roc = roc_curve(y, s)
        fpr, tpr, thr = sk_roc_curve(y, s, drop_intermediate=False)
        np.testing.assert_allclose(roc.fpr, fpr)
        np.testing.assert_allclose(roc.tpr, tpr)
        np.testing.assert_allclose(roc.thresholds[1:], thr[1:])
        assert roc.auc == pytest.approx(roc_auc_score(y, s), abs=1e-12)
        # tpr_at: the best TPR among thresholds whose FPR does not exceed the bound, by brute force
        for f in (0.0, 0.05, 0.2):
            best = max(np.mean(s[y == 1] >= c) for c in np.r_[np.inf, np.unique(s)] if np.mean(s[y == 0] >= c) <= f)
            assert roc.tpr_at(f) == pytest.approx(best)
    perfect = roc_curve([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9])
    assert perfect.tpr_at(0.0) == 1.0 and perfect.auc == 1.0


def test_roc_errors():
    with pytest.raises(ConfigError) as e:
        roc_curve([0, 0, 0], [1.0, 2.0, 3.0])
    assert e.value.field == "labels"
    with pytest.raises(ConfigError) as e:
        roc_curve([0, 1], [1.0, np.nan])
    assert e.value.field == "scores"
    with pytest.raises(ConfigError) as e:
        roc_curve([0, 1, 1], [1.0, 2.0])
    assert e.value.field == "scores"


def test_beat_features_direct_count():
    rng = np.random.default_rng(2)
    spk = (rng.random((300, 7)) < 0.1).astype(np.uint8)
    win = np.array([[0, 40], [40, 130], [130, 290], [290, 300]])
    f = beat_features(spk, win, 3, 25)
    for k, (a, _) in enumerate(win):
        for b in range(3):
            lo, hi = min(a + 25 * b, 300), min(a + 25 * (b + 1), 300)
            np.testing.assert_array_equal(f[k].reshape(3, 7)[b], spk[lo:hi].sum(0))


def test_novelty_score_and_input_reference_direct():
    rng = np.random.default_rng(3)
    fc, ft = rng.poisson(2.0, (40, 6)), rng.poisson(2.0, (9, 6))
    from hwsnn.ecg.detector import input_reference, novelty_scores

    got = novelty_scores(fc, ft, 0.5)
    for r in range(9):
        z = [(ft[r, c] - fc[:, c].mean()) / max(np.sqrt(np.mean((fc[:, c] - fc[:, c].mean()) ** 2)), 0.5)
             for c in range(6)]
        assert got[r] == pytest.approx(np.mean(np.square(z)))
    cfg = _tiny()
    ref = input_reference(cfg, 0)
    rec = load_record(cfg.data, 0)
    cal, test = rec.slice(20.0, 40.0), rec.slice(40.0, rec.duration)
    f = [beat_features(cfg.encoder.encode(p.signal).raster, p.windows(), 8, 25) for p in (cal, test)]
    np.testing.assert_allclose(ref.scores, novelty_scores(f[0], f[1], 0.5))
    assert ref.form == "input-only" and ref.roc.n_pos > 0


def _tiny(**net):
    return load_ecg_config({
        "data": {"synthetic": {"duration": 110.0, "anomalies": {"start": 40.0, "ectopic": 3, "rate_jump": 1,
                                                                "st_change": 1, "noise_burst": 1}}},
        "split": {"train_s": 20.0, "calib_s": 20.0}, "network": {"n_exc": 40, "n_inh": 10, **net}, "seeds": [0]})


def test_detector_end_to_end_deterministic_and_informative():
    cfg = _tiny()
    a = run_detector(cfg, "ip+sp", 1)
    b = run_detector(cfg, "ip+sp", 1)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert a.roc.n_pos >= 5 and a.roc.n_neg >= 20
    assert a.roc.auc > 0.6  # anomalies score higher than normal beats
    assert a.weight_change["in"] > 0 and sum(a.levels) == 40
    rows = summary_table([a, b])
    assert rows[0]["seeds"] == 2 and rows[0]["auc_std"] == 0.0


def test_float_form_runs_and_differs_only_by_arithmetic():
    cfg = _tiny(form="float")
    o = run_detector(cfg, "ip+sp", 1)
    i = run_detector(_tiny(), "ip+sp", 1)
    assert 0.5 < o.rates["calib"] / max(i.rates["calib"], 1e-9) < 2.0


def test_config_errors_name_the_field():
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"split": {"train_s": 200.0, "calib_s": 100.0}})
    assert e.value.field == "split"
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"split": {"train_s": 100.0, "calib_s": 40.0}})
    assert e.value.field == "data.synthetic.anomalies.start"
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"network": {"drive_in": 1000}})
    assert e.value.field == "network.drive_in"
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"network": {"exc": {"LEVELS": 0}}})
    assert e.value.field == "network.exc.LEVELS"
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"conditions": ["ip", "stdp"]})
    assert e.value.field.startswith("conditions")
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"data": {"source": "wfdb"}})
    assert e.value.field == "data.record"
    with pytest.raises(ConfigError) as e:
        load_ecg_config({"netwrk": {}})
    assert e.value.field == "netwrk"
    assert CONDITIONS == ("none", "ip", "sp", "ip+sp")
    assert isinstance(load_ecg_config(), EcgConfig)


def test_wfdb_source(tmp_path):
    from hwsnn.tasks.ecg import synthesize, write_wfdb

    cfg = _tiny()
    rec = synthesize(cfg.data.synthetic, seed=0)
    write_wfdb(rec, tmp_path / "syn")
    wcfg = load_ecg_config({**cfg.model_dump(mode="python"),
                            "data": {"source": "wfdb", "record": str(tmp_path / "syn")}})
    a = run_detector(wcfg, "none", 0)
    b = run_detector(cfg, "none", 0, record=rec)
    assert a.roc.n_pos == b.roc.n_pos and abs(a.roc.auc - b.roc.auc) < 0.1
    (tmp_path / "syn.atr").unlink()
    with pytest.raises(ConfigError) as e:
        run_detector(wcfg, "none", 0)
    assert e.value.field == "data.annotator"


@pytest.mark.slow
def test_float_and_integer_forms_agree_on_the_default_experiment():
    """The two forms are one algorithm (they differ by the leak's floor): per condition, their mean
    AUC over three seeds is within 0.1, and every run is better than chance."""
    rows = {}
    for form in ("float", "integer"):
        cfg = load_ecg_config({"network": {"form": form}})
        from hwsnn.ecg.detector import run_all

        outs = run_all(cfg)
        assert all(o.roc.auc > 0.5 for o in outs)
        rows[form] = {r["condition"]: r["auc_mean"] for r in summary_table(outs)}
    for cond in CONDITIONS:
        assert abs(rows["float"][cond] - rows["integer"][cond]) < 0.1, cond
