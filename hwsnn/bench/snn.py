"""``hwsnn bench snn``: the Diehl & Cook network in hwsnn vs Brian2 - speed and agreement.

Two measurements, both in the same run:

speed
    ms per presented sample (350 ms input + 150 ms rest at dt = 0.5 ms, learning on, after JIT /
    code-generation warm-up) of hwsnn's :class:`~hwsnn.engine.layer.LayerNetwork` - float ("ideal")
    synapses and the STO memristor crossbar with all non-idealities on (:data:`CROSSBAR_ALL_ON`) -
    and of the same network written in Brian2 equations (``dc_brian2.py``), run in Brian2's
    default runtime mode (runtime device, ``codegen.target = "auto"``; the target that actually
    ran is reported), and in Brian2's fastest CPU mode, C++ standalone with OpenMP on
    :data:`STANDALONE_THREADS` threads (the whole per-sample protocol in one build; compilation
    excluded from ms per sample and reported separately as ``compile_s``).  Both get Poisson
    inputs from the same images and the parameters of the :class:`~hwsnn.config.RunConfig` of
    :func:`diehl_cook_config`, passed to Brian2 in the JSON job in ms / mV (one source of truth).  Both integrate with exponential Euler (exact conductance
    decay; membrane exact for conductances held over the step), which keeps the network in its
    normal-activity regime; the regime of every row is reported (spikes and active neurons per
    sample).
scaling
    ms per sample of hwsnn's float model (learning on, a handful of samples after one untimed
    sample) for 784 inputs x :data:`SCALING_SIZES` excitatory neurons, with spikes per sample and
    synapse counts: the cost follows the spikes, not the synapses (``--quick``: the two smallest).
agreement
    identical input spike rasters, identical initial weights and thresholds into hwsnn's float
    model and Brian2 (:data:`AGREEMENT_VARIANTS`: learning off, learning on with hwsnn's STDP
    pairing conventions, learning on with the D&C code's conventions); per-sample per-neuron spike
    counts, per-neuron totals and the weight-change statistics are compared against
    :data:`AGREEMENT_TOLERANCE` (spike for spike where the models are the same, statistically
    where the conventions differ).  See ``benchmarks/brian2/README.md`` for the conventions the
    check uncovered (one-step input lag, refractory counting, same-step STDP pairs).  The
    standalone build is checked against the runtime mode on the speed rows' identical Poisson
    rates and initial weights (variant ``standalone_vs_runtime``, statistical: the two devices
    draw different Poisson trains).

Brian2 2.9 needs numpy < 2.3, so it runs in its own virtual environment, created once by
:func:`ensure_brian2_env` (``~/.cache/hwsnn/brian2-venv`` or ``$HWSNN_BRIAN2_VENV``).  If that is
impossible (no network, no compiler) :func:`run` raises :class:`~hwsnn.errors.ToolMissingError`
saying why.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from hwsnn.errors import ConfigError, HwsnnError, ToolMissingError
from hwsnn.io import atomic_write, write_json

__all__ = [
    "run",
    "BRIAN2_REQUIREMENTS",
    "CROSSBAR_ALL_ON",
    "DIEHL_COOK",
    "diehl_cook_config",
    "bench_config",
    "n_inputs",
    "AGREEMENT_TOLERANCE",
    "AgreementTolerance",
    "brian2_venv_dir",
    "ensure_brian2_env",
    "brian2_params",
    "run_brian2",
    "poisson_raster",
    "compare_runs",
    "agreement",
    "AGREEMENT_VARIANTS",
    "SMALL_INPUT_DRIVE",
    "classify_regime",
    "STANDALONE_THREADS",
    "SCALING_SIZES",
    "scaling_rows",
    "standalone_agreement",
    "standalone_raster_agreement",
    "spikes_per_sample_z",
    "STANDALONE_SPIKES_Z_MAX",
]

BRIAN2_REQUIREMENTS = ("brian2==2.9.0", "numpy>=1.26,<2.3", "cython>=3.0", "setuptools>=69")
"""What the Brian2 environment gets (Brian2 2.9 needs numpy < 2.3; Cython for its runtime target)."""

STANDALONE_THREADS = 2
"""OpenMP threads of Brian2's C++ standalone comparison column."""

STANDALONE_SERIAL_ROW = True
"""Full suite: also time the standalone build without OpenMP (``openmp_threads = 0``, one thread) as
an information row - for networks this small OpenMP's per-step synchronisation can cost more than
it saves, and the row shows which build is faster on the machine at hand.  Ratios use the OpenMP
row."""

SCALING_SIZES = (100, 400, 1600, 6400)
"""Excitatory population sizes of the scaling section (784 inputs); ``--quick`` runs the first two."""

_MARKER = "hwsnn-brian2-ok"
_SCRIPT = Path(__file__).with_name("dc_brian2.py")

CROSSBAR_ALL_ON: dict[str, Any] = {
    "synapse.backend": "crossbar",
    "synapse.device.preset": "sto",
    # faults on top of the preset's nonlinearity, C2C/D2D variability, drift, volatile state and
    # read noise (all non-zero in the "sto" preset; the per-step column read noise comes from the
    # device's read_noise)
    "synapse.device.params": {"p_stuck_min": 0.01, "p_stuck_max": 0.01},
    "synapse.crossbar.io.adc_bits": 8,  # per-step column read quantised to 8 bits ...
    # ... over a full scale of 16 full-strength rows: a 0.5 ms step carries a few input spikes, so
    # the crossbar's default range (all 784 rows, which never clips) would put the whole signal
    # below half an LSB and silence the network (3.5 instead of ~18 spikes per sample)
    "synapse.crossbar.io.adc_range": [0.0, 16.0],
}
"""Overrides (dotted :class:`~hwsnn.config.RunConfig` paths) for "STO crossbar, all non-idealities on"."""

DIEHL_COOK: dict[str, Any] = {
    "network.inhibition": "population",
    "network.efficacy": 1.0,
    "schedule.max_rate": 63.75,
    "homeostasis.norm_per_input": 78.0 / 784.0,
    "homeostasis.theta_plus": 5e-5,
    "homeostasis.tau_theta": 1e4,
    "rules[0].nu_pre": 1e-4,
    "rules[0].nu_post": 1e-2,
    "rules[0].nu_post_crossbar": 0.0,
    "synapse.backend": "ideal",
}
"""The literal Diehl & Cook 2015 parameters as overrides of the :class:`~hwsnn.config.RunConfig`
defaults (dotted paths): explicit inhibitory population, efficacy 1, 63.75 Hz, weight sum 78 per
784 inputs, adaptive theta +0.05 mV (tau 1e4 s), triplet STDP nu_pre 1e-4 / nu_post 1e-2 (also on
the crossbar).  The defaults they leave alone are Diehl & Cook's too: conductance LIF (tau 100 ms,
rest / reset -65 mV, threshold -52 mV + theta - 20 mV, refractory 5 ms, reversal 0 / -100 mV,
synaptic tau 1 / 2 ms), inhibitory population (10 ms, -60 / -45 / -40 mV, 2 ms), exc -> inh 10.4,
inh -> exc 17, traces 20 / 20 / 40 ms, 350 + 150 ms at dt 0.5 ms."""

_DATASET_OF_INPUTS = {64: "digits", 784: "mnist"}


def diehl_cook_config(n_in: int = 784, n_exc: int = 400, overrides: dict[str, Any] | None = None):
    """The Diehl & Cook network (:data:`DIEHL_COOK`) as a :class:`~hwsnn.config.RunConfig`.

    Parameters
    ----------
    n_in : {784, 64}
        Inputs: 784 (MNIST, ``task.dataset = "mnist"``) or 64 (8x8 digits); the number of inputs
        of a run config follows its dataset (:func:`n_inputs`).
    n_exc : int
        Excitatory neurons (``network.n_exc``).
    overrides : dict, optional
        More dotted overrides (``{"network.w_ie": 12.5, "rules[0].tau_post2": 0.033}``), applied
        last and validated like ``--set`` (errors name the path).
    """
    from hwsnn.config import RunConfig

    if n_in not in _DATASET_OF_INPUTS:
        raise ConfigError("n_in", f"the bench has inputs for 64 (digits) or 784 (MNIST) pixels, not {n_in}")
    over = {"task.dataset": _DATASET_OF_INPUTS[n_in], "network.n_exc": n_exc, **DIEHL_COOK, **(overrides or {})}
    return RunConfig().with_overrides(over)


def n_inputs(cfg) -> int:
    """Inputs of a run config's network: 64 for ``task.dataset = "digits"``, 784 for ``"mnist"``."""
    return {v: k for k, v in _DATASET_OF_INPUTS.items()}[cfg.task.dataset]


def _ms(x: float) -> float:
    """Seconds (volts) -> ms (mV), decimal-exact on the value as written (0.35 s -> 350.0 ms)."""
    return float(Decimal(repr(float(x))) * 1000)


@dataclass(frozen=True)
class AgreementTolerance:
    """Tolerances of the hwsnn-vs-Brian2 agreement check on identical input rasters.

    ``exact`` criteria apply when both simulators run the same model (variants ``learning_off``
    and ``learning_on_exact``): spike for spike, up to a few floating-point threshold ties.
    ``statistical`` criteria apply when the plasticity conventions differ (``learning_on_dc``):
    once one spike differs the winner-take-all dynamics pick other winners, so only aggregates
    are compared.
    """

    exact_count_entries_equal_min: float = 0.99
    """exact: fraction of (sample, neuron) spike counts that must be equal."""
    exact_neuron_within_frac: float = 0.95
    """exact: fraction of neurons whose total count differs by at most ``max(2, 10 %)``."""
    exact_dw_corr_min: float = 0.99
    """exact: Pearson correlation of the per-synapse weight changes (final - initial)."""
    exact_dw_mean_abs_rel: float = 0.01
    """exact: relative difference of the mean absolute weight change."""
    stat_total_spikes_rel: float = 0.10
    """statistical: relative difference of the total excitatory spike count."""
    stat_dw_mean_abs_rel: float = 0.15
    """statistical: relative difference of the mean absolute weight change."""
    stat_frac_potentiated_abs: float = 0.05
    """statistical: difference of the fraction of potentiated synapses."""


AGREEMENT_TOLERANCE = AgreementTolerance()
"""The tolerance :func:`run` reports against."""


# ------------------------------------------------------------------------------------------------
# Brian2 environment


def brian2_venv_dir() -> Path:
    """Where the Brian2 environment lives (``$HWSNN_BRIAN2_VENV`` or ``~/.cache/hwsnn/brian2-venv``)."""
    env = os.environ.get("HWSNN_BRIAN2_VENV")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hwsnn" / "brian2-venv"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


@contextlib.contextmanager
def _lock(path: Path):
    """Exclusive inter-process lock (so parallel test workers build the environment once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - non-POSIX
            pass
        yield


def _sh(cmd: list[str], what: str, timeout: float) -> subprocess.CompletedProcess:
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolMissingError(f"Brian2 environment: {what} failed ({exc})") from None
    if cp.returncode != 0:
        tail = "\n".join((cp.stderr or cp.stdout).strip().splitlines()[-6:])
        raise ToolMissingError(f"Brian2 environment: {what} failed (exit {cp.returncode}):\n{tail}")
    return cp


_SMOKE = """
import brian2 as b2, numpy, sys
b2.prefs.codegen.target = "auto"
g = b2.NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", threshold="v > 1", reset="v = 0")
g.v = 2
net = b2.Network(g)
net.run(1 * b2.ms)
print(b2.__version__, numpy.__version__, type(g.state_updater.codeobj).__name__)
"""


def ensure_brian2_env(create: bool = True, timeout: float = 900.0) -> Path:
    """Return the Python interpreter of a working Brian2 environment, creating it if needed.

    The environment is built once (``python -m venv`` from the base interpreter of the running
    Python, then ``pip install`` of :data:`BRIAN2_REQUIREMENTS`), checked by compiling and running
    a tiny network with Brian2's default runtime target, and only then marked ready; later calls
    just check the marker.

    Parameters
    ----------
    create : bool, optional
        Build the environment if missing (needs PyPI access, about a minute); if False a missing
        environment raises.
    timeout : float, optional
        Seconds allowed for each build step.

    Raises
    ------
    ToolMissingError
        The environment is missing and cannot be created, with the reason.
    """
    venv = brian2_venv_dir()
    py = _venv_python(venv)
    marker = venv / _MARKER
    if marker.is_file() and py.is_file():
        return py
    if not create:
        raise ToolMissingError(
            f"no Brian2 environment at {venv} (create it with benchmarks/brian2/setup_env.sh "
            "or hwsnn.bench.snn.ensure_brian2_env())"
        )
    with _lock(venv.parent / (venv.name + ".lock")):
        if marker.is_file() and py.is_file():
            return py
        base = getattr(sys, "_base_executable", None) or sys.executable
        if not py.is_file():
            _sh([base, "-m", "venv", str(venv)], "python -m venv", timeout)
        # short network timeouts: without PyPI access this fails in about a minute, not fifteen
        _sh([str(py), "-m", "pip", "install", "--quiet", "--timeout", "30", "--retries", "2",
             *BRIAN2_REQUIREMENTS],
            "pip install " + " ".join(BRIAN2_REQUIREMENTS), timeout)
        cp = _sh([str(py), "-c", _SMOKE], "Brian2 smoke run", timeout)
        last = cp.stdout.strip().splitlines()[-1] if cp.stdout.strip() else ""
        atomic_write(marker, lambda tmp: Path(tmp).write_text(last + "\n"))
    return py


# ------------------------------------------------------------------------------------------------
# RunConfig (SI) -> Brian2 job (ms, mV)


def _held(refrac: float, dt: float) -> float:
    """Brian2 refractory period (ms) that holds the membrane as many updates as hwsnn does."""
    steps = int(round(refrac / dt))
    return (steps + 1) * dt if steps > 0 else 0.0


def brian2_params(cfg) -> dict[str, float]:
    """The Brian2 script's network constants (ms, mV) from a :class:`~hwsnn.config.RunConfig` (SI).

    Only the network Brian2 has a twin of here: the ``diehl_cook`` neuron with the explicit
    inhibitory population, and one ``triplet_stdp`` rule (no synergy).
    """
    net, nr, hom, sch = cfg.network, cfg.neuron, cfg.homeostasis, cfg.schedule
    if net.inhibition != "population":
        raise ConfigError("network.inhibition", "the Brian2 comparison needs inhibition = 'population' (D&C)")
    if nr.model != "diehl_cook":
        raise ConfigError("neuron.model", f"the Brian2 comparison needs 'diehl_cook', got {nr.model!r}")
    if len(cfg.rules) != 1 or cfg.rules[0].kind != "triplet_stdp":
        raise ConfigError("rules", "the Brian2 comparison needs exactly one rule of kind 'triplet_stdp', got "
                                   + str([r.kind for r in cfg.rules]))
    if cfg.synergy.form != "none":
        raise ConfigError("synergy.form", f"the Brian2 comparison has no synergy, got {cfg.synergy.form!r}")
    rule, inh, dt = cfg.rules[0], nr.inhibitory, _ms(sch.dt)
    norm_target = hom.norm_per_input * n_inputs(cfg)
    # Refractoriness: hwsnn holds the membrane for round(refrac/dt) updates after a spike; Brian2
    # holds it for round(refrac/dt) - 1 (its update at lastspike + refrac already integrates), so
    # Brian2 gets refrac + dt to run the identical model.
    p = {
        "tau_m_e": _ms(nr.tau_m), "v_rest_e": _ms(nr.v_rest), "v_reset_e": _ms(nr.v_reset),
        "v_thresh_e": _ms(nr.v_thresh), "theta_offset": _ms(nr.theta_offset), "theta_init": _ms(hom.theta_init),
        "theta_plus": _ms(hom.theta_plus), "tau_theta": _ms(hom.tau_theta),
        "refrac_e": _held(_ms(nr.refractory), dt), "lockout_e": 0.0,
        "E_exc_e": _ms(nr.e_exc), "E_inh_e": _ms(nr.e_inh), "tau_ge_e": _ms(nr.tau_ge), "tau_gi_e": _ms(nr.tau_gi),
        "tau_m_i": _ms(inh.tau_m), "v_rest_i": _ms(inh.v_rest), "v_reset_i": _ms(inh.v_reset),
        "v_thresh_i": _ms(inh.v_thresh), "refrac_i": _held(_ms(inh.refractory), dt), "E_exc_i": _ms(inh.e_exc),
        "tau_ge_i": _ms(inh.tau_ge),
        "efficacy": net.efficacy, "w_ei": net.w_ei, "w_ie": net.w_ie, "w_max": net.w_max,
        "nu_pre": rule.nu_pre, "nu_post": rule.nu_post, "tau_pre": _ms(rule.tau_pre),
        "tau_post1": _ms(rule.tau_post1), "tau_post2": _ms(rule.tau_post2), "max_rate_hz": sch.max_rate,
        "w_sum": norm_target if norm_target > 0 else None,
    }
    return {k: (float(v) if v is not None else None) for k, v in p.items()}


def _job(cfg, *, n_samples: int, seed: int, learn: bool, inputs_file: Path, out_stem: Path,
         method: str | None = "exponential_euler", **extra) -> dict:
    sch = cfg.schedule
    job = {
        "n_in": n_inputs(cfg), "n_exc": cfg.network.n_exc, "n_samples": int(n_samples), "seed": int(seed),
        "dt_ms": _ms(sch.dt), "t_present_ms": _ms(sch.t_present), "t_rest_ms": _ms(sch.t_rest), "learn": bool(learn),
        "method": method, "codegen_target": "auto", "params": brian2_params(cfg),
        "inputs_file": str(Path(inputs_file).resolve()), "out_json": str(Path(out_stem).resolve()) + ".json",
        "out_npz": str(Path(out_stem).resolve()) + ".npz",
    }
    job.update(extra)
    return job


def run_brian2(job: dict, workdir: Path, python: Path | None = None, timeout: float = 3600.0) -> tuple[dict, dict]:
    """Run ``dc_brian2.py`` on ``job`` with the Brian2 environment; return (summary, arrays).

    Raises
    ------
    ToolMissingError
        No Brian2 environment.
    HwsnnError
        The Brian2 run failed (its error output is included).
    """
    py = python or ensure_brian2_env(create=True)
    workdir.mkdir(parents=True, exist_ok=True)
    workdir = workdir.resolve()
    job_path = workdir / (Path(job["out_json"]).stem + "_job.json")
    write_json(job_path, job)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        cp = subprocess.run([str(py), str(_SCRIPT), str(job_path)], capture_output=True, text=True,
                            timeout=timeout, env=env, cwd=str(workdir))
    except subprocess.TimeoutExpired:
        raise HwsnnError(f"Brian2 run timed out after {timeout:.0f} s ({job_path})") from None
    if cp.returncode != 0:
        lines = cp.stderr.strip().splitlines()
        causes = [ln for ln in lines[:-15] if "Error:" in ln]  # root causes Brian2 prints early
        tail = "\n".join(causes[-3:] + lines[-15:])
        raise HwsnnError(f"Brian2 run failed (exit {cp.returncode}) for {job_path}:\n{tail}")
    with open(job["out_json"], encoding="utf-8") as fh:
        summary = json.load(fh)
    with np.load(job["out_npz"]) as z:
        arrays = {k: z[k] for k in z.files}
    return summary, arrays


# ------------------------------------------------------------------------------------------------
# inputs, regime, agreement


def _save_npz(path: Path, **arrays) -> None:
    def _w(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    atomic_write(path, _w)


def poisson_raster(x: np.ndarray, max_rate: float, dt_ms: float, n_steps: int, seed: int) -> np.ndarray:
    """Poisson rasters of a batch of samples, bool ``(n_samples, n_steps, n_in)``: sample ``s`` is
    :func:`hwsnn.snn.encoders.poisson_raster` of ``x[s] * max_rate`` (the one Poisson encoder) with
    counter base ``s << 24``, so every sample draws an independent raster."""
    from hwsnn.snn.encoders import poisson_raster as encode

    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    return np.stack([encode(row * max_rate, n_steps, dt_ms * 1e-3, seed, counter0=s << 24).astype(bool)
                     for s, row in enumerate(x)]) if x.shape[0] else np.zeros((0, n_steps, x.shape[1]), bool)


def _raster_events(raster: np.ndarray) -> dict[str, np.ndarray]:
    s, t, i = np.nonzero(raster)
    return {"spike_samples": s.astype(np.int64), "spike_steps": t.astype(np.int64), "spike_inputs": i.astype(np.int64)}


def classify_regime(counts: np.ndarray) -> dict[str, Any]:
    """Activity regime of per-sample per-neuron counts ``(n_samples, n_exc)``.

    ``runaway`` when in the median sample more than half of the excitatory neurons fire (the
    synchronous regime in which inhibition overshoots and nearly all neurons fire together);
    ``silent`` when the median sample has no spike; otherwise ``normal``.
    """
    counts = np.asarray(counts)
    active = (counts > 0).mean(axis=1)
    per = counts.sum(axis=1)
    med_active = float(np.median(active)) if len(active) else 0.0
    regime = "runaway" if med_active > 0.5 else ("silent" if np.median(per) == 0 else "normal")
    return {
        "regime": regime,
        "exc_spikes_per_sample": float(per.mean()) if len(per) else 0.0,
        "active_fraction_median": med_active,
    }


def compare_runs(counts_a: np.ndarray, counts_b: np.ndarray, dw_a: np.ndarray, dw_b: np.ndarray,
                 mode: str = "exact", tol: AgreementTolerance = AGREEMENT_TOLERANCE) -> dict[str, Any]:
    """Compare two runs of the same network on identical inputs.

    Parameters
    ----------
    counts_a, counts_b : numpy.ndarray
        Per-sample per-neuron excitatory spike counts ``(n_samples, n_exc)``.
    dw_a, dw_b : numpy.ndarray
        Weight changes (final - initial), ``(n_in, n_exc)``.
    mode : {"exact", "statistical"}
        Which criteria of ``tol`` decide ``ok`` (all metrics are always reported).
    tol : AgreementTolerance

    Returns
    -------
    dict
        Metrics, the criteria used (``checks``: name -> passed) and ``ok`` (all passed).
    """
    if mode not in ("exact", "statistical"):
        raise ConfigError("mode", f"must be 'exact' or 'statistical', not {mode!r}")
    ca, cb = np.asarray(counts_a, np.int64), np.asarray(counts_b, np.int64)
    if ca.shape != cb.shape:
        raise ConfigError("counts_b", f"shape {cb.shape} differs from {ca.shape}")
    da, db = np.asarray(dw_a, np.float64).ravel(), np.asarray(dw_b, np.float64).ravel()
    if da.shape != db.shape:
        raise ConfigError("dw_b", f"shape {np.shape(dw_b)} differs from {np.shape(dw_a)}")
    ta, tb = int(ca.sum()), int(cb.sum())
    total_rel = abs(ta - tb) / max(1, max(ta, tb))
    na, nb = ca.sum(axis=0), cb.sum(axis=0)
    allowed = np.maximum(2, 0.10 * np.maximum(na, nb))
    within = float(np.mean(np.abs(na - nb) <= allowed)) if na.size else 1.0
    exact_entries = float(np.mean(ca == cb)) if ca.size else 1.0
    same = np.all(ca == cb, axis=1)
    first_diff = np.flatnonzero(~same)
    if da.std() > 0 and db.std() > 0:
        corr = float(np.corrcoef(da, db)[0, 1])
    else:
        corr = 1.0 if np.array_equal(da, db) else 0.0
    ma, mb = float(np.abs(da).mean()), float(np.abs(db).mean())
    mean_abs_rel = abs(ma - mb) / max(ma, mb) if max(ma, mb) > 0 else 0.0
    pa, pb = float(np.mean(da > 0)), float(np.mean(db > 0))
    res: dict[str, Any] = {
        "mode": mode,
        "total_spikes": [ta, tb],
        "total_spikes_rel_diff": total_rel,
        "count_entries_equal_frac": exact_entries,
        "samples_identical": int(same.sum()),
        "first_differing_sample": int(first_diff[0]) if first_diff.size else None,
        "neuron_totals_within_frac": within,
        "neuron_totals_max_abs_diff": int(np.abs(na - nb).max()) if na.size else 0,
        "dw_corr": corr,
        "dw_max_abs_diff": float(np.abs(da - db).max()) if da.size else 0.0,
        "dw_mean_abs": [ma, mb],
        "dw_mean_abs_rel_diff": mean_abs_rel,
        "dw_mean": [float(da.mean()), float(db.mean())],
        "dw_std": [float(da.std()), float(db.std())],
        "dw_frac_potentiated": [pa, pb],
        "dw_frac_depressed": [float(np.mean(da < 0)), float(np.mean(db < 0))],
    }
    if mode == "exact":
        checks = {
            "count_entries_equal": exact_entries >= tol.exact_count_entries_equal_min,
            "neuron_totals": within >= tol.exact_neuron_within_frac,
            "dw_corr": corr >= tol.exact_dw_corr_min,
            "dw_mean_abs": mean_abs_rel <= tol.exact_dw_mean_abs_rel,
        }
    else:
        checks = {
            "total_spikes": total_rel <= tol.stat_total_spikes_rel,
            "dw_mean_abs": mean_abs_rel <= tol.stat_dw_mean_abs_rel,
            "frac_potentiated": abs(pa - pb) <= tol.stat_frac_potentiated_abs,
        }
    res["checks"] = checks
    res["ok"] = bool(all(checks.values()))
    return res


def _brian2_counts_aligned(arrays: dict, n_samples: int, n_exc: int, n_on: int, n_total: int, dt: float,
                           step_lag: int) -> np.ndarray:
    """Per-sample counts of Brian2's recorded spikes binned on hwsnn's steps (Brian2 may lag a step)."""
    steps = np.rint(arrays["spike_t_ms"] / dt).astype(np.int64) - step_lag
    sample, local = np.divmod(steps, n_total)
    keep = (local < n_on) & (sample >= 0) & (sample < n_samples)
    out = np.zeros((n_samples, n_exc), np.int64)
    np.add.at(out, (sample[keep], arrays["spike_i"][keep].astype(np.int64)), 1)
    return out


# ------------------------------------------------------------------------------------------------
# hwsnn timing


SMALL_INPUT_DRIVE = {"schedule.max_rate": 127.5, "network.efficacy": 2.0, "homeostasis.norm_per_input": 0.3,
                     "rules[0].nu_post": 0.03}
"""Overrides of :func:`diehl_cook_config` for 8x8 inputs: with the literal D&C drive (weight sum
78/784 per input, 63.75 Hz) a 64-input network is nearly silent, so the 64 x 100 rows use the
prototype's input drive with the D&C equations and inhibitory population."""


def bench_config(n_in: int, n_exc: int, overrides: dict[str, Any] | None = None):
    """The bench's network: :func:`diehl_cook_config` with re-presentation off (every timed
    presentation is one sample in both simulators), :data:`SMALL_INPUT_DRIVE` below 784 inputs, then
    ``overrides`` (dotted paths)."""
    drive = dict(SMALL_INPUT_DRIVE) if n_in < 784 else {}
    return diehl_cook_config(n_in, n_exc, {"schedule.rerun_min_spikes": 0, **drive, **(overrides or {})})


def _network(cfg, seed: int):
    from hwsnn.engine.layer import LayerNetwork

    return LayerNetwork(cfg, n_inputs(cfg), seed)


def _time_hwsnn(cfg, x: np.ndarray, seed: int, n_warm: int) -> dict[str, Any]:
    # JIT compilation / cache load on a throwaway network, long enough to reach every periodic
    # path (crossbar write-back, refresh, renormalisation); the timed network starts fresh
    wb = cfg.synapse.write_back
    n_warm = max(n_warm, 1 + max(wb.every, wb.refresh, wb.renorm_every))
    warm = _network(cfg, seed + 1)
    for s in range(n_warm):
        warm.present(x[s % len(x)], learn=True)
    del warm
    net = _network(cfg, seed)
    wall = np.empty(len(x))
    cpu = np.empty(len(x))
    counts = np.empty((len(x), cfg.network.n_exc), np.int64)
    for s in range(len(x)):
        t0 = time.perf_counter()
        c0 = time.process_time()
        counts[s] = net.present(x[s], learn=True)
        cpu[s] = time.process_time() - c0
        wall[s] = time.perf_counter() - t0
    return {
        "ms_per_sample": float(1e3 * wall.mean()),
        "ms_per_sample_median": float(1e3 * np.median(wall)),
        "cpu_ms_per_sample": float(1e3 * cpu.mean()),
        **classify_regime(counts),
    }


def _inputs(n_in: int, n: int, seed: int) -> np.ndarray:
    from hwsnn.tasks.datasets import load_dataset

    if n_in == 64:
        ds = load_dataset("digits", seed=seed)
    elif n_in == 784:
        ds = load_dataset("mnist", seed=seed)
    else:
        raise ConfigError("n_in", f"the bench has inputs for 64 (digits) or 784 (MNIST) pixels, not {n_in}")
    return ds.x_train[:n]


def _speed_rows(n_in: int, n_exc: int, n_brian: int, n_hw: int, seed: int, work: Path,
                py: Path, euler_row: bool = False, standalone: bool = True,
                standalone_serial: bool = False) -> tuple[list[dict], dict]:
    cfg = bench_config(n_in, n_exc)
    x_b = _inputs(n_in, n_brian + 1, seed)
    x_h = _inputs(n_in, max(n_hw, n_brian + 1), seed)
    inp = work / f"rates_{n_in}x{n_exc}.npz"
    _save_npz(inp, rates_hz=np.clip(x_b, 0, 1) * cfg.schedule.max_rate)
    job = _job(cfg, n_samples=n_brian + 1, seed=seed, learn=True, inputs_file=inp,
               out_stem=work / f"brian2_speed_{n_in}x{n_exc}")
    b_sum, b_arr = run_brian2(job, work, py)
    b_wall = np.asarray(b_sum["wall_s_per_sample"])[1:]  # first sample: code generation
    b_cpu = float(1e3 * np.mean(np.asarray(b_sum["cpu_s_per_sample"])[1:]))
    b_reg = classify_regime(b_arr["counts"][1:])
    b_ms, b_med = float(1e3 * b_wall.mean()), float(1e3 * np.median(b_wall))
    rows = [{
        "network": f"{n_in}x{n_exc}", "simulator": "brian2", "synapse": "float", "device": "runtime",
        "target": ",".join(b_sum["codegen_target_used"]), "samples": len(b_wall),
        "ms_per_sample": b_ms, "ms_median": b_med, "cpu_ms_per_sample": b_cpu, "speedup_vs_brian2": 1.0,
        "speedup_cpu": 1.0, "spikes_per_sample": b_reg["exc_spikes_per_sample"], "regime": b_reg["regime"],
    }]
    for label, over in (("float", {}), ("sto_all_nonideal", CROSSBAR_ALL_ON)):
        c = cfg.with_overrides(over) if over else cfg
        h = _time_hwsnn(c, x_h[:n_hw], seed, n_warm=2)
        rows.append({
            "network": f"{n_in}x{n_exc}", "simulator": "hwsnn", "synapse": label, "target": "numba",
            "samples": n_hw, "ms_per_sample": h["ms_per_sample"], "ms_median": h["ms_per_sample_median"],
            "cpu_ms_per_sample": h["cpu_ms_per_sample"], "speedup_vs_brian2": b_ms / h["ms_per_sample"],
            "speedup_cpu": b_cpu / max(h["cpu_ms_per_sample"], 1e-6),
            "spikes_per_sample": h["exc_spikes_per_sample"], "regime": h["regime"],
        })
    sa_info = None
    if standalone:
        sa_row, sa_info = _standalone_speed(cfg, inp, n_brian + 1, seed, work, py, rows[0], b_arr)
        rows.insert(1, sa_row)
        if standalone_serial:
            s1_row, s1_info = _standalone_speed(cfg, inp, n_brian + 1, seed, work, py, rows[0], b_arr, threads=0)
            rows.insert(2, s1_row)
            s1_info.pop("agreement")
            sa_info["serial_build"] = s1_info
        add_standalone_ratios(rows)
    if euler_row:
        # Brian2's own method choice for these equations (Euler): the D&C script as usually run
        job_e = _job(cfg, n_samples=n_brian + 1, seed=seed, learn=True, inputs_file=inp,
                     out_stem=work / f"brian2_speed_euler_{n_in}x{n_exc}", method=None)
        e_sum, e_arr = run_brian2(job_e, work, py)
        e_wall = np.asarray(e_sum["wall_s_per_sample"])[1:]
        e_reg = classify_regime(e_arr["counts"][1:])
        rows.insert(1, {
            "network": f"{n_in}x{n_exc}", "simulator": "brian2", "synapse": "float (Brian2 default method)",
            "device": "runtime", "target": ",".join(e_sum["codegen_target_used"]), "samples": len(e_wall),
            "ms_per_sample": float(1e3 * e_wall.mean()), "ms_median": float(1e3 * np.median(e_wall)),
            "cpu_ms_per_sample": float(1e3 * np.mean(np.asarray(e_sum["cpu_s_per_sample"])[1:])),
            "speedup_vs_brian2": None, "speedup_cpu": None,
            "spikes_per_sample": e_reg["exc_spikes_per_sample"], "regime": e_reg["regime"],
        })
    info = {"brian2": {k: b_sum[k] for k in ("brian2_version", "numpy_version", "codegen_target_pref",
                                              "codegen_target_used", "method", "first_sample_s")}}
    if sa_info is not None:
        info["brian2_standalone"] = sa_info
    return rows, info


def _standalone_speed(cfg, inputs_file: Path, n_samples: int, seed: int, work: Path, py: Path,
                      runtime_row: dict, runtime_arrays: dict,
                      threads: int = STANDALONE_THREADS) -> tuple[dict, dict]:
    """Brian2 C++ standalone (OpenMP) on the runtime row's job: its speed row and build/run info.

    Same inputs file (Poisson rates), seed, initial weights and samples as the runtime row; the
    whole protocol is one build, compiled first and timed apart from the run.  The info holds the
    ``standalone_vs_runtime`` agreement entry.
    """
    net = f"{n_inputs(cfg)}x{cfg.network.n_exc}"
    stem = f"brian2_standalone_{net}" + ("" if threads == STANDALONE_THREADS else f"_threads{threads}")
    job = _job(cfg, n_samples=n_samples, seed=seed, learn=True, inputs_file=inputs_file,
               out_stem=work / stem, device="cpp_standalone", openmp_threads=int(threads))
    s_sum, s_arr = run_brian2(job, work, py)
    reg = classify_regime(s_arr["counts"][1:])  # the runtime row's samples (its first is code generation)
    row = standalone_row(net, s_sum, runtime_row, reg)
    info = {k: s_sum.get(k) for k in ("device", "openmp_threads", "codegen_target_used", "method", "build_s",
                                       "codegen_s", "compile_s", "run_binary_s", "network_run_s", "cpu_s")}
    info["samples"] = n_samples
    info["counts"] = s_arr["counts"]  # (dropped from the JSON by run())
    info["agreement"] = standalone_agreement(runtime_arrays, s_arr, net)
    return row, info


def standalone_row(network: str, summary: dict, runtime_row: dict, regime: dict) -> dict:
    """Speed row of the Brian2 C++ standalone run from its summary (``dc_brian2.py``'s JSON).

    ``ms_per_sample``: the simulation loop (Brian2's own measurement in the binary) over all
    samples, compilation excluded (``compile_s``; ``codegen_s``: Python-side code generation);
    ``cpu_ms_per_sample``: user + system time of the whole binary (all threads, loading and writing
    arrays included) per sample; ``speedup_vs_brian2``: runtime mode / standalone.
    """
    ms = float(summary["ms_per_sample"])
    cpu = float(summary["cpu_ms_per_sample"])
    threads = int(summary.get("openmp_threads") or 0)
    omp = f"OpenMP {threads} threads" if threads > 0 else "no OpenMP, 1 thread"
    return {
        "network": network, "simulator": "brian2", "synapse": "float", "device": "cpp_standalone",
        "openmp_threads": threads, "target": ",".join(summary["codegen_target_used"]) + f" ({omp})",
        "samples": int(summary["n_samples"]), "ms_per_sample": ms, "ms_median": None,
        "cpu_ms_per_sample": cpu,
        "speedup_vs_brian2": runtime_row["ms_per_sample"] / ms if ms > 0 else None,
        "speedup_cpu": runtime_row["cpu_ms_per_sample"] / cpu if cpu > 0 else None,
        "spikes_per_sample": regime["exc_spikes_per_sample"], "regime": regime["regime"],
        "compile_s": float(summary["compile_s"]),
    }


def add_standalone_ratios(rows: list[dict], threads: int = STANDALONE_THREADS) -> list[dict]:
    """Set ``speedup_vs_standalone`` (wall) and ``speedup_cpu_vs_standalone`` on the hwsnn rows.

    Ratios Brian2-standalone / hwsnn of the row of the same network with ``device ==
    "cpp_standalone"`` and ``openmp_threads == threads``; rows without such a partner are left
    alone.  Returns ``rows``.
    """
    sa = {r["network"]: r for r in rows if r.get("simulator") == "brian2" and r.get("device") == "cpp_standalone"
          and r.get("openmp_threads", threads) == threads}
    for r in rows:
        b = sa.get(r.get("network"))
        if r.get("simulator") != "hwsnn" or b is None or r.get("section", "speed") != "speed":
            continue
        r["speedup_vs_standalone"] = b["ms_per_sample"] / r["ms_per_sample"] if r["ms_per_sample"] > 0 else None
        r["speedup_cpu_vs_standalone"] = (b["cpu_ms_per_sample"] / r["cpu_ms_per_sample"]
                                          if r["cpu_ms_per_sample"] > 0 else None)
    return rows


STANDALONE_SPIKES_Z_MAX = 3.0
"""``standalone_vs_runtime``: largest accepted difference of the mean spikes per sample, in standard
errors, when the relative difference exceeds ``stat_total_spikes_rel`` (see :func:`standalone_agreement`)."""


def standalone_agreement(runtime: dict, standalone: dict, network: str,
                         tol: AgreementTolerance = AGREEMENT_TOLERANCE) -> dict[str, Any]:
    """Is the standalone build the same network as the runtime one?  Statistical comparison.

    Both ran on identical Poisson rates and initial weights but draw their own Poisson trains, so
    the per-sample counts and weight changes are compared with the ``statistical`` criteria of
    ``tol`` (mean |dw|, fraction potentiated), plus the same activity regime and identical initial
    weights.  Spikes per sample: within ``stat_total_spikes_rel`` (the bench's tolerance), or, as
    the D&C network's per-sample counts are bursty (a handful of samples with 2-3x the median), the
    difference of the two means within :data:`STANDALONE_SPIKES_Z_MAX` standard errors
    (``spikes_per_sample_z``).  The spike-for-spike check of the same two builds is
    :func:`standalone_raster_agreement`.

    Parameters
    ----------
    runtime, standalone : dict
        The arrays of the two ``dc_brian2.py`` runs (``counts``, ``w0``, ``w_final``).
    network : str
        Row label, e.g. ``"784x400"``.
    """
    c_r, c_s = np.asarray(runtime["counts"]), np.asarray(standalone["counts"])
    res: dict[str, Any] = {"variant": "standalone_vs_runtime", "network": network, "samples": int(c_r.shape[0]),
                           "compared": ["brian2 runtime", "brian2 cpp_standalone"]}
    res.update(compare_runs(c_r, c_s, runtime["w_final"] - runtime["w0"],
                            standalone["w_final"] - standalone["w0"], "statistical", tol))
    reg_r, reg_s = classify_regime(c_r), classify_regime(c_s)
    res.update({"regime_runtime": reg_r["regime"], "regime_standalone": reg_s["regime"],
                "spikes_per_sample": [reg_r["exc_spikes_per_sample"], reg_s["exc_spikes_per_sample"]]})
    z = spikes_per_sample_z(c_r.sum(axis=1), c_s.sum(axis=1))
    res["spikes_per_sample_z"] = z
    checks = res["checks"]
    checks["spikes_per_sample"] = bool(checks.pop("total_spikes") or (z is not None and z <= STANDALONE_SPIKES_Z_MAX))
    res["checks"]["same_regime"] = reg_r["regime"] == reg_s["regime"]
    res["checks"]["same_initial_weights"] = bool(np.array_equal(runtime["w0"], standalone["w0"]))
    res["ok"] = bool(all(res["checks"].values()))
    return res


def spikes_per_sample_z(a: np.ndarray, b: np.ndarray) -> float | None:
    """|mean(a) - mean(b)| in standard errors of the difference (Welch); None with < 2 samples each."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size < 2 or b.size < 2:
        return None
    se = float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
    d = abs(float(a.mean() - b.mean()))
    return d / se if se > 0 else (0.0 if d == 0 else float("inf"))


def standalone_raster_agreement(n_in: int, n_exc: int, n_samples: int, work: Path, *, seed: int = 0,
                                python: Path | None = None) -> dict[str, Any]:
    """Brian2 standalone vs runtime on identical input rasters: the same network, spike for spike.

    Both devices get the same input spike trains (``poisson_raster``), seed, initial weights and
    the D&C learning rule of the speed rows; per-sample per-neuron counts and weight changes are
    compared with the ``exact`` criteria (variant ``standalone_vs_runtime_raster``).
    """
    py = python or ensure_brian2_env(create=True)
    cfg = bench_config(n_in, n_exc)
    net = f"{n_in}x{n_exc}"
    x = _inputs(n_in, n_samples, seed)
    raster = poisson_raster(x, cfg.schedule.max_rate, _ms(cfg.schedule.dt), cfg.schedule.n_on, seed)
    inp = work / f"raster_standalone_{net}.npz"
    _save_npz(inp, **_raster_events(raster))
    runs = {}
    for dev in ("runtime", "cpp_standalone"):
        job = _job(cfg, n_samples=n_samples, seed=seed, learn=True, inputs_file=inp,
                   out_stem=work / f"brian2_raster_{dev}_{net}", device=dev, openmp_threads=STANDALONE_THREADS)
        runs[dev] = run_brian2(job, work, py)[1]
    a, b = runs["runtime"], runs["cpp_standalone"]
    res: dict[str, Any] = {"variant": "standalone_vs_runtime_raster", "network": net, "samples": n_samples,
                           "input_spikes": int(raster.sum()), "compared": ["brian2 runtime", "brian2 cpp_standalone"]}
    res.update(compare_runs(a["counts"], b["counts"], a["w_final"] - a["w0"], b["w_final"] - b["w0"], "exact"))
    reg_a, reg_b = classify_regime(a["counts"])["regime"], classify_regime(b["counts"])["regime"]
    res.update({"regime_runtime": reg_a, "regime_standalone": reg_b})
    res["checks"]["same_regime"] = reg_a == reg_b
    res["checks"]["same_initial_weights"] = bool(np.array_equal(a["w0"], b["w0"]))
    res["ok"] = bool(all(res["checks"].values()))
    return res


# ------------------------------------------------------------------------------------------------
# scaling


def _time_hwsnn_scaling(cfg, x: np.ndarray, seed: int) -> dict[str, Any]:
    """hwsnn float, learning on: one untimed sample (JIT / first-touch), then ``len(x) - 1`` timed."""
    net = _network(cfg, seed)
    net.present(x[0], learn=True)
    n = len(x) - 1
    wall, cpu = np.empty(n), np.empty(n)
    counts = np.empty((n, cfg.network.n_exc), np.int64)
    for s in range(n):
        t0 = time.perf_counter()
        c0 = time.process_time()
        counts[s] = net.present(x[s + 1], learn=True)
        cpu[s] = time.process_time() - c0
        wall[s] = time.perf_counter() - t0
    return {
        "samples": n,
        "ms_per_sample": float(1e3 * wall.mean()),
        "ms_per_sample_median": float(1e3 * np.median(wall)),
        "cpu_ms_per_sample": float(1e3 * cpu.mean()),
        **classify_regime(counts),
    }


def scaling_row(n_in: int, n_exc: int, timing: dict) -> dict:
    """Table row of one scaling size from :func:`_time_hwsnn_scaling`'s result."""
    return {
        "section": "scaling", "network": f"{n_in}x{n_exc}", "simulator": "hwsnn", "synapse": "float",
        "target": "numba", "samples": int(timing["samples"]), "synapses": int(n_in * n_exc),
        "ms_per_sample": timing["ms_per_sample"], "ms_median": timing["ms_per_sample_median"],
        "cpu_ms_per_sample": timing["cpu_ms_per_sample"], "spikes_per_sample": timing["exc_spikes_per_sample"],
        "regime": timing["regime"],
    }


def add_scaling_relatives(rows: list[dict]) -> list[dict]:
    """Add ``ms_rel``, ``synapses_rel``, ``spikes_rel`` (relative to the first row); returns ``rows``."""
    if not rows:
        return rows
    base = rows[0]
    for r in rows:
        r["ms_rel"] = r["ms_per_sample"] / base["ms_per_sample"] if base["ms_per_sample"] > 0 else None
        r["synapses_rel"] = r["synapses"] / base["synapses"]
        r["spikes_rel"] = (r["spikes_per_sample"] / base["spikes_per_sample"]
                           if base["spikes_per_sample"] > 0 else None)
    return rows


def scaling_rows(n_in: int = 784, sizes: tuple[int, ...] = SCALING_SIZES, n_samples: int = 8,
                 seed: int = 0) -> list[dict]:
    """ms per sample of hwsnn's float model at ``n_in`` x each of ``sizes``, learning on.

    Every size gets the same ``n_samples`` timed images (after one untimed one) and the parameters
    of :func:`bench_config` ``(n_in, n_exc)`` (float synapses); rows carry spikes and synapses per sample and their
    growth relative to the smallest size.
    """
    x = _inputs(n_in, n_samples + 1, seed)
    rows = [scaling_row(n_in, n, _time_hwsnn_scaling(bench_config(n_in, n), x, seed)) for n in sizes]
    return add_scaling_relatives(rows)


def _targets(table: list[dict], net: str) -> dict[str, Any]:
    """Issue #9 targets for one network, from the speed rows of ``table``."""

    def _row(syn: str) -> dict | None:
        for r in table:
            if (r["network"] == net and r["synapse"] == syn and r["simulator"] == "hwsnn"
                    and r.get("section", "speed") == "speed"):
                return r
        return None

    fl, xb = _row("float"), _row("sto_all_nonideal")
    t: dict[str, Any] = {
        "network": net,
        "float_speedup": fl and fl["speedup_vs_brian2"], "float_target": 100.0,
        "crossbar_speedup": xb and xb["speedup_vs_brian2"], "crossbar_target": 50.0,
        "float_speedup_cpu": fl and fl["speedup_cpu"], "crossbar_speedup_cpu": xb and xb["speedup_cpu"],
        "float_speedup_vs_standalone": fl and fl.get("speedup_vs_standalone"), "float_standalone_target": 50.0,
        "crossbar_speedup_vs_standalone": xb and xb.get("speedup_vs_standalone"),
        "crossbar_over_float_time": (xb["ms_per_sample"] / fl["ms_per_sample"]
                                     if fl and xb and fl["ms_per_sample"] > 0 else None),
        "crossbar_over_float_target": 1.5,
    }
    # the faster of the standalone builds on this machine (the serial one is timed in the full suite)
    sa = [r for r in table if r["network"] == net and r.get("device") == "cpp_standalone"
          and r.get("section", "speed") == "speed"]
    fast = min(sa, key=lambda r: r["ms_per_sample"]) if sa else None
    t["fastest_standalone_ms"] = fast and fast["ms_per_sample"]
    t["fastest_standalone_threads"] = fast and fast.get("openmp_threads")
    t["float_speedup_vs_fastest_standalone"] = (fast["ms_per_sample"] / fl["ms_per_sample"]
                                                if fast and fl and fl["ms_per_sample"] > 0 else None)
    t["crossbar_speedup_vs_fastest_standalone"] = (fast["ms_per_sample"] / xb["ms_per_sample"]
                                                   if fast and xb and xb["ms_per_sample"] > 0 else None)
    t["float_ok"] = bool(t["float_speedup"] is not None and t["float_speedup"] >= t["float_target"])
    t["crossbar_ok"] = bool(t["crossbar_speedup"] is not None and t["crossbar_speedup"] >= t["crossbar_target"])
    t["float_standalone_ok"] = bool(t["float_speedup_vs_standalone"] is not None
                                    and t["float_speedup_vs_standalone"] >= t["float_standalone_target"])
    t["crossbar_over_float_ok"] = bool(t["crossbar_over_float_time"] is not None
                                       and t["crossbar_over_float_time"] <= t["crossbar_over_float_target"])
    return t


# ------------------------------------------------------------------------------------------------
# agreement


AGREEMENT_VARIANTS = {
    "learning_off": dict(learn=False, input_same_step=True),
    "learning_on_exact": dict(learn=True, stdp_form="hwsnn", input_same_step=True, theta_decay="per_sample"),
    "learning_on_dc": dict(learn=True, stdp_form="dc", input_same_step=False, theta_decay="continuous"),
}
_VARIANT_MODE = {"learning_off": "exact", "learning_on_exact": "exact", "learning_on_dc": "statistical"}
"""Agreement runs.  ``learning_off``: frozen weights and thresholds, same-step input delivery (the
order hwsnn's kernel uses) - tests the neuron, conductance, inhibition and threshold dynamics.
``learning_on_exact``: the D&C triplet rule written in Brian2 with hwsnn's pairing conventions
(nearest-spike traces restarted per presentation, same-step pre/post not paired) - tests the
plasticity too.  ``learning_on_dc``: the rule as in the D&C Brian2 code (event-driven traces that
carry over between presentations, Brian2's own scheduling: inputs act one step later and a
same-step pre/post pair potentiates) - the remaining differences are convention, compared
statistically."""


def agreement(n_in: int, n_exc: int, n_samples: int, variant: str, work: Path, *, seed: int = 0,
              python: Path | None = None, hwsnn_overrides: dict | None = None) -> dict[str, Any]:
    """Run one agreement variant (:data:`AGREEMENT_VARIANTS`) and compare hwsnn with Brian2.

    Parameters
    ----------
    n_in, n_exc : int
        Network size (64 uses 8x8 digits, 784 MNIST).
    n_samples : int
        Presented samples (identical Poisson rasters into both simulators).
    variant : str
        Key of :data:`AGREEMENT_VARIANTS`.
    work : pathlib.Path
        Folder for the Brian2 job and its results.
    seed : int, optional
        Seeds the rasters and hwsnn's initial weights (passed to Brian2).
    python : pathlib.Path, optional
        Brian2 interpreter (default: :func:`ensure_brian2_env`).
    hwsnn_overrides : dict, optional
        Dotted :class:`~hwsnn.config.RunConfig` overrides applied to the hwsnn side only (mutation
        checks of the comparison), e.g. ``{"rules[0].nu_post": 0.02}``.

    Returns
    -------
    dict
        :func:`compare_runs` output plus variant, sizes, regimes and the Brian2 target.
    """
    if variant not in AGREEMENT_VARIANTS:
        raise ConfigError("variant", f"must be one of {list(AGREEMENT_VARIANTS)}, not {variant!r}")
    py = python or ensure_brian2_env(create=True)
    opts = dict(AGREEMENT_VARIANTS[variant])
    learn = opts.pop("learn")
    cfg = bench_config(n_in, n_exc)
    cfg_h = cfg.with_overrides(hwsnn_overrides) if hwsnn_overrides else cfg
    sch, n_exc, dt_ms = cfg.schedule, cfg.network.n_exc, _ms(cfg.schedule.dt)
    x = _inputs(n_in, n_samples, seed)
    raster = poisson_raster(x, sch.max_rate, dt_ms, sch.n_on, seed)
    net = _network(cfg_h, seed)
    w0 = net.weights()
    theta0 = net.state_snapshot()["theta"]  # mV (the kernel's unit)
    counts_h = np.empty((n_samples, n_exc), np.int64)
    for s in range(n_samples):
        counts_h[s] = net.present_raster(raster[s], learn=learn)
    dw_h = net.weights() - w0

    inp = work / f"raster_{n_in}x{n_exc}.npz"
    _save_npz(inp, w0=w0, theta0_mV=theta0, **_raster_events(raster))
    job = _job(cfg, n_samples=n_samples, seed=seed, learn=learn, inputs_file=inp,
               out_stem=work / f"brian2_agree_{variant}_{n_in}x{n_exc}", record_spikes=True, **opts)
    b_sum, b_arr = run_brian2(job, work, py)
    counts_b = _brian2_counts_aligned(b_arr, n_samples, n_exc, sch.n_on, sch.n_total, dt_ms, int(b_sum["step_lag"]))
    dw_b = b_arr["w_final"] - b_arr["w0"]
    res = {"variant": variant, "network": f"{n_in}x{n_exc}", "samples": n_samples,
           "input_spikes": int(raster.sum())}
    res.update(compare_runs(counts_h, counts_b, dw_h, dw_b, _VARIANT_MODE[variant]))
    reg_h, reg_b = classify_regime(counts_h)["regime"], classify_regime(counts_b)["regime"]
    res.update({"regime_hwsnn": reg_h, "regime_brian2": reg_b, "brian2_method": b_sum["method"],
                "brian2_target": b_sum["codegen_target_used"]})
    res["checks"]["same_regime"] = reg_h == reg_b
    res["ok"] = bool(all(res["checks"].values()))
    return res


# ------------------------------------------------------------------------------------------------


def run(quick: bool, out_dir: Path, *, keep_raw: bool = False) -> dict:
    """Run the suite; return a JSON-able dict with a ``"table"`` of rows.

    Parameters
    ----------
    quick : bool
        64 x 100 network on 8x8 digits only, few samples, one standalone build (its compilation,
        ~40 s, dominates), scaling at the two smallest :data:`SCALING_SIZES`.  Otherwise 784 x 400
        on MNIST and 64 x 100, more samples, all agreement variants, a Brian2 row with its default
        (Euler) method, a standalone build without OpenMP per network
        (:data:`STANDALONE_SERIAL_ROW`) and every scaling size.
    out_dir : pathlib.Path
        Folder for the Brian2 jobs and their JSON summaries (``snn_brian2/``).
    keep_raw : bool, optional
        Keep the raw ``.npz`` files (input rasters, Brian2 weights and spikes; ~5 MB per
        784 x 400 run) next to the job files.

    Raises
    ------
    ToolMissingError
        The Brian2 environment is missing and cannot be created (reason included).
    """
    out_dir = Path(out_dir).resolve()
    work = out_dir / "snn_brian2"
    work.mkdir(parents=True, exist_ok=True)
    py = ensure_brian2_env(create=True)
    seed = 0
    if quick:
        sizes = [(64, 100, 3, 20)]
        agree = [(64, 100, 6, "learning_on_exact")]
        scal_sizes, scal_samples = SCALING_SIZES[:2], 3
    else:
        sizes = [(784, 400, 20, 60), (64, 100, 20, 100)]
        agree = [(n_in, n_exc, 20, v) for n_in, n_exc in ((784, 400), (64, 100)) for v in AGREEMENT_VARIANTS]
        scal_sizes, scal_samples = SCALING_SIZES, 8
    table: list[dict] = []
    info: dict[str, Any] = {}
    for n_in, n_exc, n_b, n_h in sizes:
        rows, inf = _speed_rows(n_in, n_exc, n_b, n_h, seed, work, py, euler_row=not quick and n_in == 784,
                                standalone_serial=STANDALONE_SERIAL_ROW and not quick)
        table += rows
        sa = inf.get("brian2_standalone")
        if sa is not None:
            c_omp = sa.pop("counts")
            if "serial_build" in sa:  # same binary's RNG stream: the thread count must not change a spike
                sa["serial_build"]["counts_equal_to_openmp_build"] = bool(
                    np.array_equal(sa["serial_build"].pop("counts"), c_omp))
        info[f"{n_in}x{n_exc}"] = inf
    for r in table:
        r.setdefault("section", "speed")
    agreements = [agreement(n_in, n_exc, n, v, work, seed=seed, python=py) for n_in, n_exc, n, v in agree]
    agreements += [inf["brian2_standalone"]["agreement"] for inf in info.values() if "brian2_standalone" in inf]
    if not quick:  # two more builds per network (~1 min each): the spike-for-spike standalone check
        agreements += [standalone_raster_agreement(n_in, n_exc, 8, work, seed=seed, python=py)
                       for n_in, n_exc, _, _ in sizes]
    t0 = time.perf_counter()
    scaling = scaling_rows(784, tuple(scal_sizes), scal_samples, seed)
    scaling_s = time.perf_counter() - t0
    table += scaling
    if not keep_raw:
        for f in work.glob("*.npz"):
            f.unlink()

    big = "64x100" if quick else "784x400"
    targets = _targets(table, big)
    return {
        "suite": "snn",
        "description": "Diehl & Cook network (conductance LIF exc + inh populations, triplet STDP, adaptive "
                       "theta, 350 + 150 ms at dt 0.5 ms, learning on): ms per presented sample, hwsnn vs "
                       "Brian2 runtime mode and Brian2 C++ standalone (OpenMP) in the same run, agreement on "
                       "identical input rasters, and hwsnn's cost vs network size",
        "integration": "exponential Euler in both (exact conductance decay); rows report their activity regime",
        "speed_ratio_basis": "speedup_vs_brian2: ratio of mean per-sample wall times (throughput: hwsnn's "
                             "periodic crossbar write-back, refresh and renormalisation included); speedup_cpu: "
                             "ratio of mean per-sample process CPU times (hwsnn's device kernels use 2 threads, "
                             "Brian2 one); Brian2's first sample (code generation) and hwsnn's JIT warm-up (a "
                             "throwaway network run through every periodic path) excluded; re-presentation off "
                             "in both",
        "standalone_basis": f"Brian2 cpp_standalone, OpenMP {STANDALONE_THREADS} threads, the whole per-sample "
                            "protocol in one build (TimedArray rates, run_regularly weight normalisation on a "
                            "once-per-sample summed column sum, one run); ms_per_sample: the binary's simulation "
                            "loop over all samples, compilation excluded (compile_s, per network in "
                            "brian2.<network>.brian2_standalone); cpu_ms_per_sample: user+system time of the "
                            "whole binary, all threads; speedup_vs_standalone: standalone / hwsnn wall time",
        "small_input_drive": SMALL_INPUT_DRIVE,
        "crossbar_nonidealities": CROSSBAR_ALL_ON,
        "targets": targets,
        "targets_by_network": {f"{n_in}x{n_exc}": _targets(table, f"{n_in}x{n_exc}") for n_in, n_exc, _, _ in sizes},
        "agreement": agreements,
        "agreement_tolerance": AGREEMENT_TOLERANCE,
        "agreement_ok": all(a["ok"] for a in agreements),
        "brian2": info,
        "scaling": {"n_in": 784, "sizes": list(scal_sizes), "synapse": "float", "learn": True,
                    "samples": scal_samples, "wall_s": scaling_s, "rows": scaling},
        "table": table,
    }
