"""Diehl & Cook (2015) network in Brian2 equations: the reference for hwsnn's speed/agreement bench.

Run with the Brian2 environment's interpreter (``benchmarks/brian2/setup_env.sh`` or
``hwsnn.bench.snn.ensure_brian2_env``), never with hwsnn's::

    ~/.cache/hwsnn/brian2-venv/bin/python hwsnn/bench/dc_brian2.py job.json

(``benchmarks/brian2/dc_brian2.py`` is a link to this file; it ships inside the package so that
``hwsnn bench snn`` works from an installed wheel.)

This script is standalone (it imports only Brian2 and NumPy) and reads every parameter from the
JSON job, which ``hwsnn.bench.snn`` fills from the run config of ``diehl_cook_config`` (converted
from SI units) so there is one source of truth.  Job fields (times in ms, potentials in mV, rates in Hz)::

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
                           (runtime device only)
    device                 "runtime" (default: Brian2's runtime device, per-sample protocol driven
                           from Python) or "cpp_standalone" (one C++ standalone build of the whole
                           protocol, OpenMP; see below)
    openmp_threads         OpenMP threads of the standalone binary (default 2)
    standalone_dir         project directory of the standalone build (default: next to out_json;
                           created fresh, so compile_s is a full build)
    keep_standalone_dir    bool: keep that directory after the run (default: deleted)
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

``device = "cpp_standalone"`` (Poisson rates, or rasters without ``input_same_step``; learning off,
or on with ``stdp_form = "dc"``, ``theta_decay = "continuous"`` and no trace reset - the
configuration of the speed rows; other options are refused) expresses the same per-sample
protocol inside ONE standalone build, with no Python between samples: the
input rates come from a ``TimedArray`` indexed by time on the grid ``gcd(t_present, t_rest)``
(sample ``k``'s rates while its inputs are on, 0 Hz during its rest), the weight normalisation is
a ``run_regularly`` operation on the input synapses every ``t_present + t_rest`` at the start of
the first step of each sample, dividing by a ``(summed)`` column sum that is evaluated on the same
sample clock (once per sample, not every step, so the comparison does not charge Brian2 a full
pass over the synapses per step), and the whole run is one ``run(n_samples * (t_present +
t_rest))``.  The project is generated and compiled first (``device.build(run=False)``, timed:
``codegen_s``, ``compile_s``), then the binary is run and timed separately (``run_binary_s``: the
process, including loading and writing arrays; ``network_run_s``: the simulation loop as
measured by Brian2's generated code; ``ms_per_sample`` = ``network_run_s / n_samples``;
``cpu_s``: user + system time of the binary, all threads).  Per-sample spike counts come from
the spike monitors' recorded times.

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
import math
import os
import shutil
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


DEVICES = ("runtime", "cpp_standalone")
"""Values of the job's ``device`` field."""


def _check_standalone_job(job: dict) -> None:
    """Refuse job options the single-build standalone protocol does not express."""
    learn = bool(job["learn"])
    bad = []
    if job.get("input_same_step"):
        bad.append("input_same_step")
    if learn and job.get("stdp_form", "dc") != "dc":
        bad.append("stdp_form != 'dc'")
    if learn and job.get("theta_decay", "continuous") != "continuous":
        bad.append("theta_decay != 'continuous'")
    if learn and job.get("reset_traces_each_sample"):
        bad.append("reset_traces_each_sample")
    if bad:
        raise ValueError(f"device 'cpp_standalone' does not support {', '.join(bad)} (use device 'runtime')")


def rate_grid(dt_ms: float, t_present_ms: float, t_rest_ms: float) -> tuple[int, int, int]:
    """Grid of the standalone rate ``TimedArray``: (steps per row, rows on, rows off) per sample.

    The row length is ``gcd`` of the presentation and rest lengths in steps, so every sample is
    ``rows_on`` rows of its rates followed by ``rows_off`` rows of 0 Hz.
    """
    n_on = int(round(t_present_ms / dt_ms))
    n_off = int(round(t_rest_ms / dt_ms))
    if n_on <= 0:
        raise ValueError("t_present_ms must be at least one step")
    g = math.gcd(n_on, n_off) if n_off > 0 else n_on
    return g, n_on // g, n_off // g


def rate_rows(rate_table: np.ndarray, rows_on: int, rows_off: int) -> np.ndarray:
    """Rows of the rate ``TimedArray`` (Hz): per sample ``rows_on`` x its rates, ``rows_off`` x 0."""
    rate_table = np.asarray(rate_table, dtype=float)
    n_samples, n_in = rate_table.shape
    out = np.zeros((n_samples, rows_on + rows_off, n_in))
    out[:, :rows_on, :] = rate_table[:, None, :]
    return out.reshape(n_samples * (rows_on + rows_off), n_in)


def _rate_timed_array(b2, rate_table: np.ndarray, job: dict):
    g, rows_on, rows_off = rate_grid(job["dt_ms"], job["t_present_ms"], job["t_rest_ms"])
    values = rate_rows(rate_table, rows_on, rows_off)
    return b2.TimedArray(values * b2.Hz, dt=g * job["dt_ms"] * b2.ms, name="rate_ta"), g


def bin_counts(spike_i: np.ndarray, spike_t_ms: np.ndarray, n_samples: int, n: int, dt_ms: float,
               steps_per_sample: int) -> np.ndarray:
    """Per-sample per-neuron counts ``(n_samples, n)`` of recorded spikes (index, time in ms)."""
    steps = np.rint(np.asarray(spike_t_ms, dtype=float) / dt_ms).astype(np.int64)
    sample = steps // steps_per_sample
    keep = (sample >= 0) & (sample < n_samples)
    out = np.zeros((n_samples, n), np.int64)
    np.add.at(out, (sample[keep], np.asarray(spike_i, dtype=np.int64)[keep]), 1)
    return out


def _children_cpu_s() -> float:
    try:
        import resource
    except ImportError:  # pragma: no cover - non-POSIX
        return float("nan")
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _run_standalone(b2, job, net, exc, s_in, mon_e, mon_i, ii, jj, w0, n_samples, n_in, n_exc):
    """Generate, compile (timed) and run (timed separately) the single standalone build."""
    from brian2 import mV, ms

    dev = b2.get_device()
    t_sample_ms = job["t_present_ms"] + job["t_rest_ms"]
    net.run(n_samples * t_sample_ms * ms, namespace={})  # recorded, not run (build_on_run=False)
    proj = job.get("standalone_dir") or (os.path.splitext(os.path.abspath(job["out_json"]))[0] + "_standalone")
    if os.path.isdir(proj):
        shutil.rmtree(proj)  # fresh project: the compile time is a full build
    t0 = time.perf_counter()
    dev.build(directory=proj, compile=True, run=False, with_output=False)
    build_s = time.perf_counter() - t0
    compile_s = float(dev.timers["compile"]["make"] or 0.0)
    c0 = _children_cpu_s()
    t0 = time.perf_counter()
    dev.run(with_output=False)
    run_binary_s = time.perf_counter() - t0
    cpu_s = _children_cpu_s() - c0
    network_run_s = float(getattr(dev, "_last_run_time", run_binary_s))
    steps_per_sample = int(round(t_sample_ms / job["dt_ms"]))
    se_i, se_t = np.asarray(mon_e.i[:]), np.asarray(mon_e.t[:] / ms)
    counts = bin_counts(se_i, se_t, n_samples, n_exc, job["dt_ms"], steps_per_sample)
    counts_i = bin_counts(np.asarray(mon_i.i[:]), np.asarray(mon_i.t[:] / ms), n_samples, n_exc,
                          job["dt_ms"], steps_per_sample)
    w_final = np.zeros((n_in, n_exc))
    w_final[ii, jj] = np.asarray(s_in.w[:])
    theta_final = np.asarray(exc.theta[:] / mV)
    codeobj_types = sorted({type(o.codeobj).__name__ for g in (exc, s_in) for o in g.contained_objects
                            if getattr(o, "codeobj", None) is not None})
    threads = int(b2.prefs.devices.cpp_standalone.openmp_threads)
    if not job.get("keep_standalone_dir", False):
        shutil.rmtree(proj, ignore_errors=True)
    learn = bool(job["learn"])
    with np.load(job["inputs_file"]) as z:
        input_mode = "raster" if "spike_steps" in z.files else "poisson_rates"
    result = {
        "brian2_version": b2.__version__,
        "numpy_version": np.__version__,
        "device": "cpp_standalone",
        "openmp_threads": threads,
        "codegen_target_pref": "cpp_standalone",
        "codegen_target_used": codeobj_types,
        "method": job.get("method"),
        "theta_decay": job.get("theta_decay", "continuous"),
        "stdp_form": job.get("stdp_form", "dc") if learn else None,
        "input_same_step": False,
        "step_lag": 1,
        "reset_traces_each_sample": False,
        "input_mode": input_mode,
        "n_in": n_in, "n_exc": n_exc, "n_samples": n_samples, "learn": learn,
        # one build: no per-sample wall times, no first sample with code generation
        "wall_s_per_sample": None,
        "cpu_s_per_sample": None,
        "ms_per_sample_excl_first": None,
        "ms_per_sample_median_excl_first": None,
        "first_sample_s": None,
        "ms_per_sample": 1e3 * network_run_s / n_samples,
        "cpu_ms_per_sample": 1e3 * cpu_s / n_samples,
        "network_run_s": network_run_s,
        "run_binary_s": run_binary_s,
        "cpu_s": cpu_s,
        "build_s": build_s,
        "compile_s": compile_s,
        "codegen_s": build_s - compile_s,
        "standalone_dir": proj if job.get("keep_standalone_dir", False) else None,
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
        extra["spike_i"], extra["spike_t_ms"] = se_i, se_t
    return result, extra, counts, counts_i, w_final, theta_final


def build_and_run(job: dict) -> dict:
    device_name = job.get("device", "runtime")
    if device_name not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, not {device_name!r}")
    standalone = device_name == "cpp_standalone"
    if standalone:
        _check_standalone_job(job)

    import brian2 as b2
    from brian2 import Hz, mV, ms

    if standalone:
        b2.set_device("cpp_standalone", build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = int(job.get("openmp_threads", 2))
    else:
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
    if w_sum:
        ns["w_sum_target"] = float(w_sum)

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
    norm_in_build = standalone and learn and bool(w_sum)
    if norm_in_build:
        eqs_e += "wsum : 1\n"  # column sum of the input weights, a (summed) variable of s_in
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
    elif standalone:
        rate_table = np.asarray(data["rates_hz"], dtype=float)[:n_samples]
        rate_ta, _ = _rate_timed_array(b2, rate_table, job)
        inp = b2.PoissonGroup(n_in, rates="rate_ta(t, i)", name="inp", namespace={"rate_ta": rate_ta})
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
    if norm_in_build:
        model += "\nwsum_post = w : 1 (summed)\n"
    s_in = b2.Synapses(inp, exc, model=model, on_pre=on_pre, on_post=on_post, namespace=ns, name="s_in")
    if exact_stdp:
        s_in.pre_plast.when = "synapses"
        s_in.pre_plast.order = -1  # before the post pathway (order 0) in the same slot
    if same_step:
        # input spikes are emitted at the start of the step and reach the conductance before the
        # membrane update of the same step (hwsnn's order) instead of one step later
        s_in.pre.when = "before_groups"
    if standalone:
        # explicit all-to-all indices: in standalone the synapses are only created in the binary
        ii = np.repeat(np.arange(n_in), n_exc)
        jj = np.tile(np.arange(n_exc), n_in)
        s_in.connect(i=ii, j=jj)
    else:
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

    if standalone:
        # the per-sample counts are binned from the recorded spike times after the single run
        mon_e = b2.SpikeMonitor(exc, record=True, name="mon_e")
        mon_i = b2.SpikeMonitor(inh, record=True, name="mon_i")
    else:
        mon_e = b2.SpikeMonitor(exc, record=bool(job.get("record_spikes", False)), name="mon_e")
        mon_i = b2.SpikeMonitor(inh, record=False, name="mon_i")
    net = b2.Network(inp, exc, inh, s_in, s_ei, s_ie, mon_e, mon_i)
    if norm_in_build:
        # before the first step of every sample: w <- min(w * w_sum / column sum, w_max), the
        # runtime path's normalisation.  The column sum is a (summed) variable; Brian2 evaluates
        # summed variables on the target group's clock (every step), here it is moved onto the
        # sample clock so that it runs once per sample, in the same slot just before the
        # normalisation.
        t_sample = (job["t_present_ms"] + job["t_rest_ms"]) * ms
        sample_clock = b2.Clock(dt=t_sample, name="sample_clock")
        upd = s_in.summed_updaters["wsum_post"]
        upd._clock = sample_clock
        upd.when, upd.order = "start", 0
        norm_op = s_in.run_regularly(
            "w = clip(w * w_sum_target / (wsum_post + int(wsum_post == 0)), 0, w_max)",
            dt=t_sample, when="start", order=1, name="s_in_normalise",
        )
        norm_op._clock = sample_clock
        net.add(norm_op)

    if standalone:
        result, extra, counts, counts_i, w_final, theta_final = _run_standalone(
            b2, job, net, exc, s_in, mon_e, mon_i, ii, jj, w0, n_samples, n_in, n_exc)
        _write_outputs(job, result, extra, counts, counts_i, w0, w_final, theta_final, np.zeros(0))
        return result

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
        "device": "runtime",
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
    _write_outputs(job, result, extra, counts, counts_i, w0, w_final, theta_final, wall)
    return result


def _write_outputs(job, result, extra, counts, counts_i, w0, w_final, theta_final, wall) -> None:
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


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: dc_brian2.py JOB.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    res = build_and_run(job)
    keys = ("device", "codegen_target_used", "ms_per_sample_excl_first", "first_sample_s", "ms_per_sample",
            "compile_s")
    summary = {k: res[k] for k in keys if k in res}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
