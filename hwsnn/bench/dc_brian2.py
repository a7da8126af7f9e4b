"""Diehl & Cook (2015) network in Brian2 equations: the reference for hwsnn's speed/agreement bench.

Run with the Brian2 environment's interpreter (``benchmarks/brian2/setup_env.sh`` or
``hwsnn.bench.snn.ensure_brian2_env``), never with hwsnn's::

    ~/.cache/hwsnn/brian2-venv/bin/python hwsnn/bench/dc_brian2.py job.json

(``benchmarks/brian2/dc_brian2.py`` is a link to this file; it ships inside the package so that
``hwsnn bench snn`` works from an installed wheel.)

This script is standalone (it imports only Brian2 and NumPy) and reads every parameter from the
JSON job, which ``hwsnn.bench.snn`` fills from ``WTAConfig.diehl_cook`` so there is one source of
truth.  Job fields (times in ms, potentials in mV, rates in Hz)::

    n_in, n_exc            sizes (the inhibitory population has n_exc neurons)
    n_samples              number of presented samples
    seed                   Brian2 / NumPy seed (Poisson inputs)
    dt_ms, t_present_ms, t_rest_ms
    learn                  bool: triplet STDP on and adaptive threshold moving
    theta_decay            "continuous" (D&C: dtheta/dt = -theta/tau_theta) or "per_sample"
                           (theta *= exp(-T/tau_theta) after each sample, as hwsnn does)
    reset_traces_each_sample  bool: zero the STDP traces before each presentation (hwsnn's
                           nearest-spike traces restart at each presentation; D&C's do not)
    record_spikes          bool: also store every excitatory spike (index, time) in out_npz
    stdp_form              "dc": the D&C code's rule with event-driven traces (default);
                           "hwsnn": the same rule with hwsnn's exact pairing conventions (nearest-
                           spike traces restarted per presentation, same-step pre/post not paired)
    input_same_step        bool (rasters only): deliver an input spike to the conductance before
                           the membrane update of its own step (hwsnn's order) - see below
    method                 Brian2 integration method for the neuron groups ("exponential_euler",
                           "euler", ...) or null to let Brian2 choose
    codegen_target         Brian2 runtime target; "auto" (Brian2's default) unless told otherwise
    params                 dict of network constants (see PARAM_KEYS)
    inputs_file            .npz with either "rates_hz" (n_samples, n_in) -> Poisson inputs, or
                           "spike_steps", "spike_inputs", "spike_samples" (int arrays: step within
                           the presentation, input index, sample index) -> identical input trains;
                           optionally "w0" (n_in, n_exc) initial weights, "theta0_mV" (n_exc,)
    out_json, out_npz      where to write results (JSON summary; final weights, theta, counts)

Per sample the script does what the original code does: while learning, normalise each
excitatory neuron's input weights to ``params["w_sum"]`` (if given; then clipped to ``w_max``),
switch the inputs on for ``t_present_ms``, then off for ``t_rest_ms``; each phase is one
``Network.run`` call.  The wall time of each sample is recorded; the first sample includes
Brian2's code generation and compilation.

Timing convention: Brian2 applies a synaptic event to the conductance after the state update of
the step in which it arrives, so an input spike at step ``s`` first moves the membrane at step
``s + 1``; hwsnn's kernel adds it before the update of step ``s``.  The two are the same
dynamics shifted by one step: hwsnn's spike at step ``s`` corresponds to Brian2's spike recorded
at ``(s + 1) * dt`` (``hwsnn.bench.snn`` bins Brian2's recorded spikes accordingly, using
``step_lag`` from the result).  With ``input_same_step`` the input pathway is scheduled before the
state update, which removes the lag (``step_lag = 0``).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np

PARAM_KEYS = (
    # excitatory population (conductance-based LIF, adaptive threshold)
    "tau_m_e", "v_rest_e", "v_reset_e", "v_thresh_e", "theta_offset", "theta_init", "theta_plus",
    "tau_theta", "refrac_e", "lockout_e", "E_exc_e", "E_inh_e", "tau_ge_e", "tau_gi_e",
    # inhibitory population (only the exc -> inh pathway excites it; nothing inhibits it)
    "tau_m_i", "v_rest_i", "v_reset_i", "v_thresh_i", "refrac_i", "E_exc_i", "tau_ge_i",
    # connections and triplet STDP
    "efficacy", "w_ei", "w_ie", "w_max", "nu_pre", "nu_post", "tau_pre", "tau_post1", "tau_post2",
    # input
    "max_rate_hz",
)


def _atomic_write_bytes(path: str, write) -> None:
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=d, prefix="." + os.path.basename(path), suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def build_and_run(job: dict) -> dict:
    import brian2 as b2
    from brian2 import Hz, mV, ms

    b2.prefs.codegen.target = job.get("codegen_target", "auto")
    b2.defaultclock.dt = job["dt_ms"] * ms
    seed = int(job["seed"])
    b2.seed(seed)
    np.random.seed(seed)
    p = job["params"]
    missing = [k for k in PARAM_KEYS if k not in p]
    if missing:
        raise KeyError(f"job params missing {missing}")
    n_in, n_exc, n_samples = int(job["n_in"]), int(job["n_exc"]), int(job["n_samples"])
    learn = bool(job["learn"])
    method = job.get("method")
    method_kw = {"method": method} if method else {}  # none given: Brian2's own choice
    w_sum = p.get("w_sum")
    data = np.load(job["inputs_file"])

    ns = {k: v for k, v in p.items() if k in PARAM_KEYS}
    unit = {
        "tau_m_e": ms, "v_rest_e": mV, "v_reset_e": mV, "v_thresh_e": mV, "theta_offset": mV,
        "theta_init": mV, "theta_plus": mV, "tau_theta": ms, "refrac_e": ms, "lockout_e": ms,
        "E_exc_e": mV, "E_inh_e": mV, "tau_ge_e": ms, "tau_gi_e": ms, "tau_m_i": ms, "v_rest_i": mV,
        "v_reset_i": mV, "v_thresh_i": mV, "refrac_i": ms, "E_exc_i": mV,
        "tau_ge_i": ms, "tau_pre": ms, "tau_post1": ms, "tau_post2": ms,
        "max_rate_hz": Hz,
    }
    ns = {k: (v * unit[k] if k in unit else v) for k, v in ns.items()}
    ns["theta_plus_eff"] = ns["theta_plus"] if learn else 0 * mV

    eqs_e = """
    dv/dt = ((v_rest_e - v) + ge*(E_exc_e - v) + gi*(E_inh_e - v)) / tau_m_e : volt (unless refractory)
    dge/dt = -ge/tau_ge_e : 1
    dgi/dt = -gi/tau_gi_e : 1
    """
    theta_decay = job.get("theta_decay", "continuous")
    if theta_decay not in ("continuous", "per_sample"):
        raise ValueError(f"theta_decay must be 'continuous' or 'per_sample', not {theta_decay!r}")
    continuous = learn and theta_decay == "continuous"
    eqs_e += "dtheta/dt = -theta/tau_theta : volt\n" if continuous else "theta : volt\n"
    stdp_form = job.get("stdp_form", "dc")
    if stdp_form not in ("dc", "hwsnn"):
        raise ValueError(f"stdp_form must be 'dc' or 'hwsnn', not {stdp_form!r}")
    exact_stdp = learn and stdp_form == "hwsnn"
    reset_e = "v = v_reset_e; theta += theta_plus_eff"
    if exact_stdp:
        eqs_e += "tlast : second\n"  # time of the last spike, updated in the reset (after the synapses)
        reset_e += "; tlast = t"
    exc = b2.NeuronGroup(
        n_exc, eqs_e,
        threshold="v > theta - theta_offset + v_thresh_e and (t - lastspike) >= lockout_e",
        reset=reset_e,
        refractory="refrac_e", namespace=ns, name="exc", **method_kw,
    )
    eqs_i = """
    dv/dt = ((v_rest_i - v) + ge*(E_exc_i - v)) / tau_m_i : volt (unless refractory)
    dge/dt = -ge/tau_ge_i : 1
    """
    inh = b2.NeuronGroup(
        n_exc, eqs_i, threshold="v > v_thresh_i", reset="v = v_reset_i", refractory="refrac_i",
        namespace=ns, name="inh", **method_kw,
    )
    exc.v = p["v_rest_e"] * mV
    inh.v = p["v_rest_i"] * mV
    theta0 = data["theta0_mV"] if "theta0_mV" in data.files else np.full(n_exc, p["theta_init"])
    exc.theta = np.asarray(theta0, dtype=float) * mV

    raster_mode = "spike_steps" in data.files
    same_step = bool(job.get("input_same_step", False))
    if same_step and not raster_mode:
        raise ValueError("input_same_step needs explicit input rasters")
    if raster_mode:
        steps_per_sample = int(round((job["t_present_ms"] + job["t_rest_ms"]) / job["dt_ms"]))
        abs_steps = data["spike_samples"].astype(np.int64) * steps_per_sample + data["spike_steps"].astype(np.int64)
        # SpikeGeneratorGroup times sit on the dt grid: spike k of input i at step s fires at s*dt
        inp = b2.SpikeGeneratorGroup(
            n_in, data["spike_inputs"].astype(np.int64), abs_steps * job["dt_ms"] * ms, name="inp",
            when="start" if same_step else "thresholds",
        )
        rate_table = None
    else:
        rate_table = np.asarray(data["rates_hz"], dtype=float)
        inp = b2.PoissonGroup(n_in, rates=0 * Hz, name="inp")

    if exact_stdp:
        # hwsnn's kernel conventions, exactly: nearest-spike traces exp(-(t - t_last)/tau) restarted
        # at each presentation; at a step, a pre spike depresses with the post1 trace of the post
        # neuron's previous spike and a post spike potentiates with the pre trace of the input's
        # previous spike and the post2 trace of its own previous spike - spikes of the same step
        # are not paired.  Pathway order in the step: depression (pre) before potentiation (post),
        # both before the reset that records this step's post spike time.
        model = """
        w : 1
        tpre : second
        tpre_prev : second
        """
        on_pre = {
            "pre": "ge_post += efficacy*w",
            "pre_plast": "w = clip(w - nu_pre*exp(-(t - tlast_post)/tau_post1), 0, w_max); "
                         "tpre_prev = tpre; tpre = t",
        }
        on_post = ("tp = tpre*int(tpre < t) + tpre_prev*int(tpre >= t); "
                   "w = clip(w + nu_post*exp(-(t - tp)/tau_pre)*exp(-(t - tlast_post)/tau_post2), 0, w_max)")
    elif learn:
        model = """
        w : 1
        dxpre/dt = -xpre/tau_pre : 1 (event-driven)
        dypost1/dt = -ypost1/tau_post1 : 1 (event-driven)
        dypost2/dt = -ypost2/tau_post2 : 1 (event-driven)
        """
        on_pre = "ge_post += efficacy*w; xpre = 1.; w = clip(w - nu_pre*ypost1, 0, w_max)"
        on_post = "y2before = ypost2; w = clip(w + nu_post*xpre*y2before, 0, w_max); ypost1 = 1.; ypost2 = 1."
    else:
        model, on_pre, on_post = "w : 1", "ge_post += efficacy*w", None
    s_in = b2.Synapses(inp, exc, model=model, on_pre=on_pre, on_post=on_post, namespace=ns, name="s_in")
    if exact_stdp:
        s_in.pre_plast.when = "synapses"
        s_in.pre_plast.order = -1  # before the post pathway (order 0) in the same slot
    if same_step:
        # input spikes are emitted at the start of the step and reach the conductance before the
        # membrane update of the same step (hwsnn's order) instead of one step later
        s_in.pre.when = "before_groups"
    s_in.connect()  # all-to-all
    ii, jj = np.asarray(s_in.i[:]), np.asarray(s_in.j[:])
    if "w0" in data.files:
        w0 = np.asarray(data["w0"], dtype=float)
        if w0.shape != (n_in, n_exc):
            raise ValueError(f"w0 has shape {w0.shape}, expected {(n_in, n_exc)}")
    else:
        w0 = 0.3 * np.random.rand(n_in, n_exc)
    s_in.w[:] = w0[ii, jj]
    s_ei = b2.Synapses(exc, inh, on_pre="ge_post += w_ei", namespace=ns, name="s_ei")
    s_ei.connect(j="i")
    s_ie = b2.Synapses(inh, exc, on_pre="gi_post += w_ie", namespace=ns, name="s_ie")
    s_ie.connect(condition="i != j")

    mon_e = b2.SpikeMonitor(exc, record=bool(job.get("record_spikes", False)), name="mon_e")
    mon_i = b2.SpikeMonitor(inh, record=False, name="mon_i")
    net = b2.Network(inp, exc, inh, s_in, s_ei, s_ie, mon_e, mon_i)

    t_present, t_rest = job["t_present_ms"] * ms, job["t_rest_ms"] * ms
    reset_traces = bool(job.get("reset_traces_each_sample", False))
    never = -1e4 * b2.second  # "no spike yet": every trace is exp(-huge) = 0
    theta_step_decay = float(np.exp(-(job["t_present_ms"] + job["t_rest_ms"]) / p["tau_theta"]))
    counts = np.zeros((n_samples, n_exc), dtype=np.int64)
    counts_i = np.zeros((n_samples, n_exc), dtype=np.int64)
    wall = np.zeros(n_samples)
    cpu = np.zeros(n_samples)
    prev_e = np.zeros(n_exc, dtype=np.int64)
    prev_i = np.zeros(n_exc, dtype=np.int64)
    for k in range(n_samples):
        t0 = time.perf_counter()
        c0 = time.process_time()
        if learn and w_sum:
            wmat = np.zeros((n_in, n_exc))
            wmat[ii, jj] = s_in.w[:]
            col = wmat.sum(axis=0)
            factor = np.where(col > 0, float(w_sum) / np.where(col > 0, col, 1.0), 1.0)
            s_in.w[:] = np.minimum(wmat * factor[None, :], p["w_max"])[ii, jj]
        if exact_stdp:  # nearest-spike traces restart at each presentation
            s_in.tpre[:] = never
            s_in.tpre_prev[:] = never
            exc.tlast[:] = never
        elif learn and reset_traces:
            s_in.xpre[:] = 0
            s_in.ypost1[:] = 0
            s_in.ypost2[:] = 0
        if rate_table is not None:
            inp.rates = rate_table[k] * Hz
        net.run(t_present, namespace={})
        if rate_table is not None:
            inp.rates = 0 * Hz
        net.run(t_rest, namespace={})
        if learn and not continuous:
            exc.theta[:] = exc.theta[:] * theta_step_decay
        wall[k] = time.perf_counter() - t0
        cpu[k] = time.process_time() - c0
        ce, ci = np.asarray(mon_e.count[:]), np.asarray(mon_i.count[:])
        counts[k], counts_i[k] = ce - prev_e, ci - prev_i
        prev_e, prev_i = ce.copy(), ci.copy()

    codeobj_types = sorted({type(o.codeobj).__name__ for g in (exc, inh) for o in g.contained_objects
                            if getattr(o, "codeobj", None) is not None}
                           | {type(o.codeobj).__name__ for o in s_in.contained_objects
                              if getattr(o, "codeobj", None) is not None})
    w_final = np.zeros((n_in, n_exc))
    w_final[ii, jj] = s_in.w[:]
    theta_final = np.asarray(exc.theta[:] / mV)
    result = {
        "brian2_version": b2.__version__,
        "numpy_version": np.__version__,
        "codegen_target_pref": str(b2.prefs.codegen.target),
        "codegen_target_used": codeobj_types,
        "method": method,
        "theta_decay": theta_decay,
        "stdp_form": stdp_form if learn else None,
        "input_same_step": same_step,
        "step_lag": 0 if same_step else 1,
        "reset_traces_each_sample": reset_traces,
        "input_mode": "raster" if raster_mode else "poisson_rates",
        "n_in": n_in, "n_exc": n_exc, "n_samples": n_samples, "learn": learn,
        "wall_s_per_sample": wall.tolist(),
        "cpu_s_per_sample": cpu.tolist(),
        "ms_per_sample_excl_first": float(1000 * wall[1:].mean()) if n_samples > 1 else None,
        "ms_per_sample_median_excl_first": float(1000 * np.median(wall[1:])) if n_samples > 1 else None,
        "first_sample_s": float(wall[0]),
        "exc_spikes_per_sample": counts.sum(axis=1).tolist(),
        "inh_spikes_per_sample": counts_i.sum(axis=1).tolist(),
        "w_stats": {
            "mean": float(w_final.mean()), "std": float(w_final.std()),
            "min": float(w_final.min()), "max": float(w_final.max()),
            "mean_abs_change": float(np.abs(w_final - w0).mean()),
            "mean_change": float((w_final - w0).mean()),
        },
        "theta_mean_mV": float(theta_final.mean()),
    }
    extra = {}
    if job.get("record_spikes"):
        extra["spike_i"] = np.asarray(mon_e.i[:])
        extra["spike_t_ms"] = np.asarray(mon_e.t[:] / ms)

    def _w_npz(tmp):
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, counts=counts, counts_inh=counts_i, w0=w0, w_final=w_final,
                                theta_final_mV=theta_final, wall_s=wall, **extra)

    _atomic_write_bytes(job["out_npz"], _w_npz)
    text = json.dumps(result, indent=2) + "\n"

    def _w_json(tmp):
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    _atomic_write_bytes(job["out_json"], _w_json)
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: dc_brian2.py JOB.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    res = build_and_run(job)
    summary = {k: res[k] for k in ("codegen_target_used", "ms_per_sample_excl_first", "first_sample_s")}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
