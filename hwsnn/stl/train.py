"""Surrogate-gradient BPTT for the STL network, Adam, and the SL / TL / STL training modes.

Loss: mean squared error between the population readout (:func:`hwsnn.stl.model.readout`) and
one-hot targets, averaged over batch and classes (PyTorch's ``MSELoss``).  The gradient is exact
backpropagation through time of the unrolled network with ``dH/dz`` replaced by the arctan
surrogate; the hard reset ``v = (1 - s) m`` is differentiated through ``s`` too (the authors'
code does not detach it).  With the smooth twin :func:`hwsnn.stl.model.smooth_spike` as the spike
function the same code is the exact gradient of a smooth network, which the tests compare with
finite differences.

Modes: ``sl`` trains the weights only, ``tl`` the thresholds only, ``stl`` both (synapse-threshold
synergistic learning).  Optimiser: Adam with L2 weight decay added to the gradient, the learning
rate multiplied by ``lr_decay`` after every epoch.  Optionally (``[train.ssdp]``,
:mod:`hwsnn.stl.ssdp_post`) SSDP post-optimises the last layer's weights after every optimiser step
once the warm-up epochs are over.
"""

from __future__ import annotations

import time
from typing import Annotated, Callable, Literal, NamedTuple

import numpy as np
from pydantic import Field, field_validator, model_validator

from hwsnn import rng
from hwsnn.config.types import Bool, Float, Int, Str
from hwsnn.engine.contract import Params
from hwsnn.errors import ConfigError
from hwsnn.stl.deploy import DeployParams
from hwsnn.stl.ssdp_post import RobustnessParams, SSDPPostParams, batch_change, event_noise, jitter, rule_at
from hwsnn.stl.model import (STREAM_INPUT_TEST, STREAM_INPUT_TRAIN, Layer, ModelParams, STLParams, Trace, encode,
                             forward, heaviside, init_params, readout, surrogate)

__all__ = ["MODES", "TrainParams", "TaskParams", "loss_and_grads", "Adam", "TrainResult", "train", "evaluate",
           "load_split", "robustness", "STLConfig", "parse_stl_config", "stl_presets", "stl_preset_path",
           "stl_config_toml"]

MODES = ("sl", "tl", "stl")
"""Training modes: weights only, thresholds only, both."""

_STREAM_ORDER = 0x57_0003
"""RNG stream of the per-epoch sample order."""

Mode = Literal["sl", "tl", "stl"]


class TrainParams(Params):
    """The optimiser (config section ``[train]``)."""

    modes: list[Mode] = ["sl", "tl", "stl"]
    """Modes to train, each from the same initial network per seed: ``sl`` (weights only),
    ``tl`` (thresholds only), ``stl`` (weights and thresholds)."""
    epochs: Annotated[Int, Field(ge=1, le=1000)] = 10
    """Passes over the training samples."""
    batch: Annotated[Int, Field(ge=1, le=100_000)] = 50
    """Samples per gradient step."""
    lr: Annotated[Float, Field(gt=0.0)] = 1e-3
    """Adam learning rate (first epoch)."""
    lr_theta: Annotated[Float, Field(gt=0.0)] | None = None
    """Adam learning rate of the thresholds (first epoch); None = ``lr`` (the authors' setting)."""
    lr_decay: Annotated[Float, Field(gt=0.0, le=1.0)] = 0.93
    """Factor on the learning rate after every epoch (exponential schedule)."""
    weight_decay: Annotated[Float, Field(ge=0.0)] = 1e-6
    """L2 penalty added to the gradient of every trained parameter (Adam's ``weight_decay``)."""
    beta1: Annotated[Float, Field(ge=0.0, lt=1.0)] = 0.9
    """Adam's first-moment decay."""
    beta2: Annotated[Float, Field(ge=0.0, lt=1.0)] = 0.999
    """Adam's second-moment decay."""
    eps: Annotated[Float, Field(gt=0.0)] = 1e-8
    """Adam's denominator offset."""
    epoch_accuracy: Bool = False
    """Measure the test accuracy after every epoch (``TrainResult.epoch_accuracy``; convergence
    stability), with the test inputs of the final evaluation."""
    ssdp: SSDPPostParams = SSDPPostParams()
    """SSDP post-optimisation of the last layer (off by default)."""

    @field_validator("modes")
    @classmethod
    def _modes(cls, v):
        if not v:
            raise ValueError("must list at least one of 'sl', 'tl', 'stl'")
        if len(set(v)) != len(v):
            raise ValueError(f"must not repeat a mode, got {v}")
        return v

    @model_validator(mode="after")
    def _ssdp_warmup(self):
        if self.ssdp.enabled and self.ssdp.warmup >= self.epochs:
            raise ConfigError("ssdp.warmup", f"must be below train.epochs ({self.epochs}) for SSDP to act, "
                                             f"got {self.ssdp.warmup}")
        return self


class TaskParams(Params):
    """Data and seeds (config section ``[task]``)."""

    dataset: Literal["digits", "mnist"] = "digits"
    """``digits`` (scikit-learn 8x8, 1,297 train / 500 test) or ``mnist`` (the shipped 10,000-image
    MNIST test set, 8,000 / 2,000), split by :func:`hwsnn.tasks.datasets.load_dataset`."""
    n_train: Annotated[Int, Field(ge=0)] = 0
    """Training samples used (the first of the split; 0 = all)."""
    n_test: Annotated[Int, Field(ge=0)] = 0
    """Test samples used (0 = all)."""
    seeds: list[Annotated[Int, Field(ge=0, le=2**31 - 1)]] = [0, 1, 2]
    """Seeds; each gives the split, the initial network and the input draws."""

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v):
        if not v:
            raise ValueError("must list at least one seed")
        if len(set(v)) != len(v):
            raise ValueError(f"must not repeat a seed, got {v}")
        return v


def loss_and_grads(params: STLParams, raster: np.ndarray, target: np.ndarray, alpha: float = 2.0,
                   spike_fn: Callable = heaviside, trace: Trace | None = None) -> tuple[float, tuple]:
    """MSE loss of one batch and its BPTT gradient with respect to every weight and threshold.

    Parameters
    ----------
    params : STLParams
    raster : (T, batch, n_in) array
        Input spikes.
    target : (batch, n_classes) array
        One-hot (or any) targets of the readout.
    alpha : float
        Surrogate width.
    spike_fn : callable
        Forward spike function (:func:`~hwsnn.stl.model.heaviside`, or
        :func:`~hwsnn.stl.model.smooth_spike` for which the gradient is exact).
    trace : Trace, optional
        A forward pass already made with the same arguments.

    Returns
    -------
    (loss, grads) with ``grads`` a tuple of :class:`~hwsnn.stl.model.Layer` (``w`` and ``theta``
    gradients of every layer).
    """
    tr = forward(params, raster, spike_fn, alpha) if trace is None else trace
    layers = params.layers
    n_t, batch = raster.shape[:2]
    rates = readout(params, tr.spikes[-1])
    diff = rates - target
    loss = float(np.mean(diff**2))
    p = params.population
    # dL/ds of every output neuron and step: d mean((r - y)^2) / d r  *  d r / d s
    g_out = np.repeat(2.0 * diff / diff.size, p, axis=1) / (n_t * p)
    g_s_ext = [None] * len(layers)
    g_s_ext[-1] = np.broadcast_to(g_out, (n_t, batch, g_out.shape[1]))
    grads = [None] * len(layers)
    for k in range(len(layers) - 1, -1, -1):
        w, th = layers[k]
        s_all, m_all = tr.spikes[k], tr.membrane[k]
        x_all = tr.inputs if k == 0 else tr.spikes[k - 1]
        gw = np.zeros_like(w)
        gth = np.zeros_like(th)
        g_below = np.zeros_like(x_all) if k > 0 else None
        gv = np.zeros((batch, w.shape[1]))  # dL/dv_t carried back from step t+1
        for t in range(n_t - 1, -1, -1):
            s, m = s_all[t], m_all[t]
            sg = surrogate(m - th, alpha)
            gs = g_s_ext[k][t] - gv * m           # v_t = m_t - s_t m_t
            gm = gv * (1.0 - s) + gs * sg          # dL/dm_t
            gth -= (gs * sg).sum(axis=0)
            gw += x_all[t].T @ gm
            if g_below is not None:
                g_below[t] = gm @ w.T
            gv = params.decay * gm
        grads[k] = Layer(w=gw, theta=gth)
        if k > 0:
            g_s_ext[k - 1] = g_below
    return loss, tuple(grads)


class Adam:
    """Adam on a list of arrays (updated in place), with L2 weight decay added to the gradient."""

    def __init__(self, arrays: list, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        self.arrays = arrays
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.m = [np.zeros_like(a) for a in arrays]
        self.v = [np.zeros_like(a) for a in arrays]
        self.t = 0

    def step(self, grads: list) -> None:
        """One update of every array from its gradient."""
        self.t += 1
        c1 = 1.0 - self.b1**self.t
        c2 = 1.0 - self.b2**self.t
        for a, g, m, v in zip(self.arrays, grads, self.m, self.v):
            g = g + self.wd * a if self.wd else g
            m *= self.b1
            m += (1.0 - self.b1) * g
            v *= self.b2
            v += (1.0 - self.b2) * g * g
            a -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


class TrainResult(NamedTuple):
    """One trained network and its figures."""

    params: STLParams
    mode: str
    seed: int
    train_accuracy: float
    test_accuracy: float
    loss: list
    """Mean training loss per epoch."""
    seconds: float
    """Training time (excluding the final evaluation)."""
    epoch_accuracy: tuple = ()
    """Test accuracy after every epoch (empty unless ``train.epoch_accuracy``)."""
    ssdp_change: tuple = ()
    """Per epoch, the mean over batches of the mean ``|dW|`` that SSDP added to the last layer (0
    before the warm-up; empty without SSDP)."""


def load_split(task: TaskParams, seed: int):
    """``(x_train, y_train, x_test, y_test, n_classes)`` of the task's dataset and seed, cut to
    ``n_train`` / ``n_test`` (an error, not a silent clip, when they exceed the split)."""
    from hwsnn.tasks.datasets import load_dataset

    ds = load_dataset(task.dataset, seed=seed)
    for name, n, have in (("task.n_train", task.n_train, ds.n_train), ("task.n_test", task.n_test, ds.n_test)):
        if n > have:
            raise ConfigError(name, f"{n} exceeds the {have} samples of the {task.dataset} split (0 = all)")
    ntr = task.n_train or ds.n_train
    nte = task.n_test or ds.n_test
    return ds.x_train[:ntr], ds.y_train[:ntr], ds.x_test[:nte], ds.y_test[:nte], ds.n_classes


def evaluate(params: STLParams, x: np.ndarray, y: np.ndarray, steps: int, seed: int,
             stream: int = STREAM_INPUT_TEST, batch: int = 500, perturb: Callable | None = None) -> float:
    """Accuracy of ``params`` on ``(x, y)``, inputs drawn with (``seed``, ``stream`` + sample index);
    ``perturb(raster, ids)`` optionally changes each batch's input raster first."""
    correct = 0
    for a in range(0, len(y), batch):
        ids = np.arange(a, min(a + batch, len(y)))
        r = encode(x[ids], steps, seed, stream, ids)
        if perturb is not None:
            r = perturb(r, ids)
        pred = readout(params, forward(params, r).spikes[-1]).argmax(axis=1)
        correct += int(np.sum(pred == y[ids]))
    return correct / len(y)


def train(model: ModelParams, opt: TrainParams, task: TaskParams, mode: str, seed: int, data=None,
          progress: Callable | None = None) -> TrainResult:
    """Train one network in ``mode`` (``sl``, ``tl``, ``stl``) from the seed's initial parameters.

    ``data`` is :func:`load_split`'s tuple (loaded if None); ``progress(iterable, **kw)`` wraps the
    epoch loop (e.g. :func:`hwsnn.cli.common.progress`).
    """
    if mode not in MODES:
        raise ConfigError("mode", f"must be one of {list(MODES)}, got {mode!r}")
    x_tr, y_tr, x_te, y_te, n_classes = load_split(task, seed) if data is None else data
    params = init_params(model, x_tr.shape[1], n_classes, seed)
    layers = [Layer(w=l.w.copy(), theta=l.theta.copy()) for l in params.layers]
    params = params._replace(layers=tuple(layers))
    groups = []  # (trained field, its optimiser over every layer)
    if mode in ("sl", "stl"):
        groups.append(("w", Adam([l.w for l in layers], opt.lr, opt.beta1, opt.beta2, opt.eps, opt.weight_decay)))
    if mode in ("tl", "stl"):
        lr = opt.lr if opt.lr_theta is None else opt.lr_theta
        groups.append(("theta", Adam([l.theta for l in layers], lr, opt.beta1, opt.beta2, opt.eps,
                                     opt.weight_decay)))
    eye = np.eye(n_classes)
    epochs = range(opt.epochs)
    if progress is not None:
        epochs = progress(epochs, desc=f"{mode} seed {seed}", unit="epoch")
    t0 = time.perf_counter()
    losses, epoch_acc, ssdp_abs = [], [], []
    t_eval = 0.0
    for ep in epochs:
        perm = np.argsort(rng.uniform_array(seed, _STREAM_ORDER, len(y_tr), ep), kind="stable")
        rule = rule_at(opt.ssdp, ep, opt.epochs)
        tot = 0.0
        dsum, nb = 0.0, 0
        for a in range(0, len(perm), opt.batch):
            ids = perm[a:a + opt.batch]
            r = encode(x_tr[ids], model.steps, seed, STREAM_INPUT_TRAIN, ids, counter=ep)
            tr = forward(params, r, heaviside, model.alpha)
            loss, grads = loss_and_grads(params, r, eye[y_tr[ids]], model.alpha, trace=tr)
            for field, adam in groups:
                adam.step([getattr(g, field) for g in grads])
                if field == "theta":
                    for layer in layers:
                        np.maximum(layer.theta, model.theta_min, out=layer.theta)
            if rule is not None:  # SSDP post-optimisation of the last layer, from this batch's spikes
                pre = tr.inputs if len(layers) == 1 else tr.spikes[-2]
                dw = batch_change(rule, opt.ssdp.dt, pre, tr.spikes[-1])
                np.add(layers[-1].w, dw, out=layers[-1].w)
                dsum += float(np.abs(dw).mean())
                nb += 1
            tot += loss * len(ids)
        losses.append(tot / len(perm))
        if opt.ssdp.enabled:
            ssdp_abs.append(dsum / nb if nb else 0.0)
        for _, adam in groups:
            adam.lr *= opt.lr_decay
        if opt.epoch_accuracy:
            te = time.perf_counter()
            epoch_acc.append(evaluate(params, x_te, y_te, model.steps, seed))
            t_eval += time.perf_counter() - te
    seconds = time.perf_counter() - t0 - t_eval
    acc_tr = evaluate(params, x_tr, y_tr, model.steps, seed, STREAM_INPUT_TRAIN + 0x0800_0000)
    acc_te = evaluate(params, x_te, y_te, model.steps, seed)
    return TrainResult(params=params, mode=mode, seed=seed, train_accuracy=acc_tr, test_accuracy=acc_te,
                       loss=losses, seconds=seconds, epoch_accuracy=tuple(epoch_acc),
                       ssdp_change=tuple(ssdp_abs))


def robustness(params: STLParams, x: np.ndarray, y: np.ndarray, steps: int, seed: int,
               cfg: RobustnessParams) -> dict:
    """Test accuracy under each jitter level (``jitter_<std>``) and event-noise level
    (``noise_<p>``) of ``cfg``, on the test inputs of :func:`evaluate`; the perturbations are drawn
    with ``seed`` (:func:`hwsnn.stl.ssdp_post.jitter`, :func:`~hwsnn.stl.ssdp_post.event_noise`)."""
    out = {}
    for j in cfg.jitter:
        out[f"jitter_{j:g}"] = evaluate(params, x, y, steps, seed, perturb=lambda r, ids, j=j: jitter(r, j, seed, ids))
    for p in cfg.noise:
        out[f"noise_{p:g}"] = evaluate(params, x, y, steps, seed,
                                       perturb=lambda r, ids, p=p: event_noise(r, p, seed, ids))
    return out


# ---------------------------------------------------------------------------------------------- config
class STLConfig(Params):
    """A whole STL experiment: ``[model]``, ``[train]``, ``[task]``, ``[deploy]``, ``[robustness]``
    (TOML sections)."""

    description: Str = ""
    """Free text shown by ``hwsnn stl train --list``."""
    model: ModelParams = ModelParams()
    """The network."""
    train: TrainParams = TrainParams()
    """The optimiser and the modes."""
    task: TaskParams = TaskParams()
    """Data and seeds."""
    deploy: DeployParams = DeployParams()
    """Integer and crossbar deployment (``hwsnn stl deploy``)."""
    robustness: RobustnessParams = RobustnessParams()
    """Test accuracy under input spike-time jitter and event noise after training."""


def parse_stl_config(data: dict, overrides: dict | None = None) -> STLConfig:
    """A validated :class:`STLConfig` from a parsed TOML document and dotted overrides
    (``train.epochs``); errors are one :class:`ConfigError` naming the dotted field."""
    from pydantic import ValidationError

    from hwsnn.config.errors import config_error
    from hwsnn.config.legacy import set_path

    import copy

    if not isinstance(data, dict):
        raise ConfigError("config", "must be a table of sections")
    data = copy.deepcopy(data)
    for path, value in (overrides or {}).items():
        set_path(data, path, value)
    try:
        return STLConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, STLConfig) from None


def stl_presets() -> list[str]:
    """Names of the shipped STL configs (``hwsnn/configs/stl/*.toml``)."""
    from importlib import resources

    d = resources.files("hwsnn").joinpath("configs", "stl")
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml"))


def stl_preset_path(name: str):
    """Path of the shipped STL config ``name``."""
    import os
    from importlib import resources
    from pathlib import Path

    if name not in stl_presets():
        raise ConfigError("config", f"unknown STL config {name!r}; shipped: {', '.join(stl_presets())}")
    return Path(os.fspath(resources.files("hwsnn").joinpath("configs", "stl", f"{name}.toml")))


def stl_config_toml(cfg: STLConfig) -> str:
    """The resolved config as TOML that :func:`parse_stl_config` accepts back."""
    import tomli_w

    from hwsnn.config.loader import to_plain

    return "# hwsnn stl: resolved config\n" + tomli_w.dumps(to_plain(cfg))
