"""The STL network: spiking layers with per-neuron trainable thresholds, as a pure step function.

Neuron (every layer, every neuron ``j``, time step ``t``; ``x_t`` the layer's input spikes)::

    m_t = decay * v_{t-1} + (x_t @ W)_j        # membrane before the spike decision (v_{-1} = 0)
    s_t = H(m_t - theta_j)                     # H(z) = 1 if z >= 0 else 0
    v_t = (1 - s_t) * m_t                      # hard reset to 0

with ``decay = 0.5``, one threshold ``theta_j`` per neuron (initialised at ``theta_init`` plus a
small Gaussian spread), no bias.  The input layer is a Bernoulli rate code of the pixel values
(:func:`encode`); the last layer has ``population`` neurons per class and the readout is the
population's spike rate averaged over neurons and time steps (:func:`readout`).  Training
(:mod:`hwsnn.stl.train`) replaces ``dH/dz`` by the arctan surrogate :func:`surrogate`.

State and parameters are NamedTuples of arrays; :func:`step` is the pure update
``step(params, state, x_t) -> (StepOut, state')`` that the trainer, the integer twin
(:mod:`hwsnn.stl.deploy`) and the NIR round trip (:mod:`hwsnn.stl.nir_io`) are checked against.
"""

from __future__ import annotations

import math
from typing import Annotated, Callable, NamedTuple

import numpy as np
from pydantic import Field

from hwsnn import rng
from hwsnn.config.types import Float, Int
from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError

__all__ = ["ModelParams", "Layer", "STLParams", "STLState", "StepOut", "Trace", "heaviside", "smooth_spike",
           "surrogate", "init_params", "initial_state", "step", "forward", "readout", "predict", "encode",
           "check_params", "save_params", "load_params", "STREAM_INPUT_TRAIN", "STREAM_INPUT_TEST"]

# RNG streams (hwsnn.rng keys) of this package; far from the device / crossbar streams
_STREAM_W = 0x57_0001
_STREAM_THETA = 0x57_0002
STREAM_INPUT_TRAIN = 0x57_1000_0000
"""Base stream of the training inputs' Bernoulli draws (plus the sample's index in the split)."""
STREAM_INPUT_TEST = 0x57_2000_0000
"""Base stream of the test inputs' Bernoulli draws (plus the sample's index in the split)."""


class ModelParams(Params):
    """The network (config section ``[model]``)."""

    n_hidden: Annotated[Int, Field(ge=0, le=100_000)] = 0
    """Neurons of the hidden spiking layer; 0 = one spiking layer (inputs straight to the output
    population)."""
    population: Annotated[Int, Field(ge=1, le=1000)] = 10
    """Output neurons per class; the readout averages their spikes (population output)."""
    steps: Annotated[Int, Field(ge=1, le=1000)] = 4
    """Time steps per sample (``T``)."""
    decay: Annotated[Float, Field(gt=0.0, lt=1.0)] = 0.5
    """Membrane decay per step (``tau`` of the authors' code)."""
    theta_init: Annotated[Float, Field(gt=0.0)] = 2.0
    """Initial firing threshold of every neuron (membrane units)."""
    theta_spread: Annotated[Float, Field(ge=0.0)] = 1e-4
    """Standard deviation of the initial thresholds around ``theta_init`` (heterogeneity)."""
    theta_min: Annotated[Float, Field(gt=0.0)] = 1e-3
    """Trained thresholds are kept at or above this value (a threshold at or below 0 would fire
    without input)."""
    alpha: Annotated[Float, Field(gt=0.0)] = 2.0
    """Width parameter of the arctan surrogate gradient ``(alpha/2) / (1 + (pi alpha z / 2)^2)``."""
    w_init: Annotated[Float, Field(gt=0.0)] = 1.0
    """Initial weights are uniform on ``[-w_init, w_init] / sqrt(fan_in)`` (1 = PyTorch's
    ``nn.Linear`` default)."""


class Layer(NamedTuple):
    """One spiking layer's parameters."""

    w: np.ndarray
    """Weights, float64 ``(n_in, n_out)``."""
    theta: np.ndarray
    """Per-neuron thresholds, float64 ``(n_out,)``."""


class STLParams(NamedTuple):
    """A whole network: its layers (input side first) and the shared constants."""

    layers: tuple
    """``Layer`` per spiking layer."""
    decay: float
    """Membrane decay per step."""
    population: int
    """Output neurons per class (the last layer has ``n_classes * population`` neurons)."""

    @property
    def n_in(self) -> int:
        return int(self.layers[0].w.shape[0])

    @property
    def n_classes(self) -> int:
        return int(self.layers[-1].w.shape[1] // self.population)


class STLState(NamedTuple):
    """Membrane potential after the reset of every layer, ``(batch, n)`` per layer."""

    v: tuple


class StepOut(NamedTuple):
    """What one step emits."""

    spikes: tuple
    """Spikes of every layer, ``(batch, n)`` float64 (0/1, or the smooth twin's values)."""
    membrane: tuple
    """Membrane before the spike decision ``m_t`` of every layer."""


class Trace(NamedTuple):
    """A recorded forward pass over ``T`` steps (what backpropagation through time needs)."""

    inputs: np.ndarray
    """The input raster, ``(T, batch, n_in)``."""
    spikes: tuple
    """Per layer ``(T, batch, n)``."""
    membrane: tuple
    """Per layer ``(T, batch, n)``: ``m_t`` before the spike decision."""


def heaviside(z: np.ndarray, alpha: float) -> np.ndarray:
    """The spike function of the network: ``1.0`` where ``z >= 0`` else ``0.0`` (``alpha`` unused)."""
    return (z >= 0.0).astype(np.float64)


def smooth_spike(z: np.ndarray, alpha: float) -> np.ndarray:
    """``1/2 + arctan(pi alpha z / 2) / pi``: the smooth function whose derivative is exactly
    :func:`surrogate` (used to check the backpropagation against finite differences)."""
    return 0.5 + np.arctan(0.5 * math.pi * alpha * z) / math.pi


def surrogate(z: np.ndarray, alpha: float) -> np.ndarray:
    """Arctan surrogate of ``dH/dz``: ``(alpha/2) / (1 + (pi alpha z / 2)^2)``."""
    return (0.5 * alpha) / (1.0 + (0.5 * math.pi * alpha * z) ** 2)


def check_params(params: STLParams) -> STLParams:
    """``params`` if its layers chain (``w`` 2-D, ``theta`` one per output, inputs of layer ``k+1``
    = outputs of layer ``k``, the last layer a whole number of populations) and are finite;
    :class:`ConfigError` naming the layer otherwise."""
    if not isinstance(params, STLParams) or not params.layers:
        raise ConfigError("params", "must be an STLParams with at least one layer")
    prev = None
    for k, layer in enumerate(params.layers):
        w, th = np.asarray(layer.w), np.asarray(layer.theta)
        if w.ndim != 2 or th.shape != (w.shape[1],):
            raise ConfigError(f"layers[{k}]", f"needs w (n_in, n_out) and theta (n_out,), got {w.shape} and "
                                              f"{th.shape}")
        if prev is not None and w.shape[0] != prev:
            raise ConfigError(f"layers[{k}].w", f"has {w.shape[0]} inputs, the layer before has {prev} outputs")
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(th))):
            raise ConfigError(f"layers[{k}]", "weights and thresholds must be finite")
        prev = w.shape[1]
    if not (0.0 < params.decay <= 1.0):
        raise ConfigError("decay", f"must be in (0, 1], got {params.decay}")
    if params.population < 1 or prev % params.population:
        raise ConfigError("population", f"{prev} output neurons are not a whole number of populations of "
                                         f"{params.population}")
    return params


def init_params(cfg: ModelParams, n_in: int, n_classes: int, seed: int) -> STLParams:
    """Initial parameters: weights uniform on ``+-w_init/sqrt(fan_in)``, thresholds
    ``theta_init + theta_spread * N(0, 1)`` (floored at ``theta_min``), from the counter RNG
    (:mod:`hwsnn.rng`) keyed by ``seed`` -- so SL, TL and STL runs of one seed start identical."""
    sizes = [n_in] + ([cfg.n_hidden] if cfg.n_hidden else []) + [n_classes * cfg.population]
    layers = []
    for k in range(len(sizes) - 1):
        fan_in, n_out = sizes[k], sizes[k + 1]
        u = rng.uniform_array(seed, _STREAM_W + 16 * k, fan_in * n_out)
        w = (2.0 * u - 1.0).reshape(fan_in, n_out) * (cfg.w_init / math.sqrt(fan_in))
        z = rng.normal_array(seed, _STREAM_THETA + 16 * k, n_out)
        th = np.maximum(cfg.theta_init + cfg.theta_spread * z, cfg.theta_min)
        layers.append(Layer(w=w, theta=th))
    return STLParams(layers=tuple(layers), decay=float(cfg.decay), population=int(cfg.population))


def initial_state(params: STLParams, batch: int) -> STLState:
    """All membranes at 0."""
    return STLState(v=tuple(np.zeros((batch, layer.w.shape[1])) for layer in params.layers))


def step(params: STLParams, state: STLState, x: np.ndarray, spike_fn: Callable = heaviside,
         alpha: float = 2.0) -> tuple[StepOut, STLState]:
    """One time step of every layer (input side first; a layer's spikes feed the next layer in
    the same step).

    Parameters
    ----------
    params, state
        Network and membranes.
    x : (batch, n_in) array
        Input spikes of this step.
    spike_fn : callable, optional
        ``H`` (default :func:`heaviside`) or :func:`smooth_spike` (gradient checks).
    alpha : float, optional
        Passed to ``spike_fn``.

    Returns
    -------
    (StepOut, STLState)
    """
    inp = np.asarray(x, np.float64)
    spikes, mems, vs = [], [], []
    for layer, v in zip(params.layers, state.v):
        m = params.decay * v + inp @ layer.w
        s = spike_fn(m - layer.theta, alpha)
        vs.append((1.0 - s) * m)
        spikes.append(s)
        mems.append(m)
        inp = s
    return StepOut(spikes=tuple(spikes), membrane=tuple(mems)), STLState(v=tuple(vs))


def forward(params: STLParams, raster: np.ndarray, spike_fn: Callable = heaviside, alpha: float = 2.0) -> Trace:
    """Run :func:`step` over a ``(T, batch, n_in)`` input raster from rest; record everything."""
    raster = np.asarray(raster, np.float64)
    if raster.ndim != 3 or raster.shape[2] != params.n_in:
        raise ConfigError("raster", f"must have shape (T, batch, {params.n_in}), got {raster.shape}")
    n_t, batch = raster.shape[:2]
    state = initial_state(params, batch)
    spikes = [np.empty((n_t, batch, layer.w.shape[1])) for layer in params.layers]
    mems = [np.empty_like(s) for s in spikes]
    for t in range(n_t):
        out, state = step(params, state, raster[t], spike_fn, alpha)
        for k in range(len(params.layers)):
            spikes[k][t] = out.spikes[k]
            mems[k][t] = out.membrane[k]
    return Trace(inputs=raster, spikes=tuple(spikes), membrane=tuple(mems))


def readout(params: STLParams, out_spikes: np.ndarray) -> np.ndarray:
    """Population output: ``(T, batch, C*P)`` spikes -> ``(batch, C)`` rates (mean over the ``P``
    neurons of each class, consecutive in the layer, and over time)."""
    n_t, batch, n = out_spikes.shape
    p = params.population
    return out_spikes.reshape(n_t, batch, n // p, p).mean(axis=(0, 3))


def predict(params: STLParams, raster: np.ndarray) -> np.ndarray:
    """Predicted classes (argmax of the readout; ties go to the lowest class)."""
    return readout(params, forward(params, raster).spikes[-1]).argmax(axis=1)


def encode(x: np.ndarray, steps: int, seed: int, stream: int, ids: np.ndarray, counter: int = 0) -> np.ndarray:
    """Bernoulli rate code: ``(batch, n_in)`` intensities in ``[0, 1]`` -> ``(T, batch, n_in)`` spikes.

    Pixel ``i`` of sample ``b`` spikes at step ``t`` when ``u < x[b, i]`` for a uniform ``u`` drawn
    by the counter RNG at (``seed``, ``stream + ids[b]``, index ``t*n_in + i``, ``counter``): a
    sample's raster depends on its id and the counter (the epoch), not on the batch it is in.
    """
    x = np.asarray(x, np.float64)
    ids = np.asarray(ids, np.int64)
    batch, n_in = x.shape
    out = np.empty((steps, batch, n_in))
    for b in range(batch):
        u = rng.uniform_array(seed, stream + int(ids[b]), steps * n_in, counter).reshape(steps, n_in)
        out[:, b, :] = u < x[b]
    return out


def save_params(params: STLParams, path) -> None:
    """Write ``params`` to an ``.npz`` file atomically (``w0, theta0, w1, ...``, ``decay``, ``population``)."""
    from hwsnn.io import atomic_write

    arrays = {"decay": np.float64(params.decay), "population": np.int64(params.population),
              "n_layers": np.int64(len(params.layers))}
    for k, layer in enumerate(params.layers):
        arrays[f"w{k}"] = layer.w
        arrays[f"theta{k}"] = layer.theta

    def _w(tmp: str) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    atomic_write(path, _w)


def load_params(path) -> STLParams:
    """Read what :func:`save_params` wrote (ConfigError naming the file if it is not such a file)."""
    try:
        with np.load(path) as z:
            n = int(z["n_layers"])
            layers = tuple(Layer(w=np.array(z[f"w{k}"], np.float64), theta=np.array(z[f"theta{k}"], np.float64))
                           for k in range(n))
            params = STLParams(layers=layers, decay=float(z["decay"]), population=int(z["population"]))
    except (OSError, KeyError, ValueError) as exc:
        raise ConfigError("params", f"{path} is not an STL parameter file ({exc})") from None
    return check_params(params)
