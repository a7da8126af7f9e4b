"""The training schedule, labelling and vote of the main job (``hwsnn run``).

The network itself is the engine's winner-take-all layer, :class:`hwsnn.engine.layer.LayerNetwork`,
built from a :class:`hwsnn.config.RunConfig` (the one run config, SI units); see that module for the
neuron, the rules and the three synapse backends.  This module trains it unsupervised on a dataset
(:func:`train_and_evaluate`: seeded random order per epoch, accuracy curve), labels each neuron
with the class of its highest mean response (:func:`assign_labels`, Diehl & Cook) and classifies
by vote (:func:`predict`).

Static datasets are presented as Poisson rates (:meth:`LayerNetwork.present`); the event datasets
(:class:`hwsnn.tasks.events.EventDataset`) as their recordings' input rasters
(:meth:`LayerNetwork.present_raster`), encoded once per dataset and presentation length and kept
in memory for every epoch and the labelling and test passes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from hwsnn.engine.layer import LayerNetwork
from hwsnn.errors import ConfigError
from hwsnn.tasks.events import EncodedEvents, EventDataset

if TYPE_CHECKING:
    from hwsnn.config import RunConfig

__all__ = [
    "assign_labels",
    "predict",
    "train_and_evaluate",
    "evaluate",
    "confusion_matrix",
    "wait",
]


# ----------------------------------------------------------------------------------------------
def assign_labels(counts: np.ndarray, y: np.ndarray, n_classes: int) -> np.ndarray:
    """Label each neuron with the class of its highest mean response (D&C); shape ``(n_exc,)``."""
    counts = np.asarray(counts, np.float64)
    rates = np.zeros((n_classes, counts.shape[1]))
    for c in range(n_classes):
        m = y == c
        if m.any():
            rates[c] = counts[m].mean(axis=0)
    return np.argmax(rates, axis=0).astype(np.int64)


def predict(counts: np.ndarray, assignments: np.ndarray, n_classes: int) -> np.ndarray:
    """Vote: the class whose assigned neurons have the highest mean spike count."""
    counts = np.asarray(counts, np.float64)
    scores = np.zeros((counts.shape[0], n_classes))
    for c in range(n_classes):
        m = assignments == c
        if m.any():
            scores[:, c] = counts[:, m].sum(axis=1) / m.sum()
    return np.argmax(scores, axis=1).astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    cm = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def _present(net: LayerNetwork, x, s: int, learn: bool) -> np.ndarray:
    """Present sample ``s`` of ``x``: Poisson rates (an array of images) or an event raster."""
    if isinstance(x, EncodedEvents):
        return net.present_raster(x.raster(s), learn=learn)
    return net.present(x[s], learn=learn)


def _responses(net: LayerNetwork, x, tick: Callable[[], None] | None) -> np.ndarray:
    out = np.empty((len(x), net.n_exc), np.int64)
    for s in range(len(x)):
        out[s] = _present(net, x, s, False)
        if tick:
            tick()
    return out


def _event_view(net: LayerNetwork, dataset: EventDataset, n_train: int | None, n_test: int | None) -> "_View":
    """The first ``n_train`` / ``n_test`` recordings encoded onto the network's presentation steps."""
    n_tr = dataset.n_train if n_train is None else min(int(n_train), dataset.n_train)
    n_te = dataset.n_test if n_test is None else min(int(n_test), dataset.n_test)
    return _View(dataset.encoded("train", net.n_on, n_tr), dataset.y_train[:n_tr],
                 dataset.encoded("test", net.n_on, n_te), dataset.y_test[:n_te])


def wait(net: LayerNetwork, seconds: float) -> None:
    """Let ``seconds`` pass without input (the test delay): on the crossbar backend the devices'
    clock advances (drift, volatile relaxation), every weight is re-read and, with
    ``synapse.write_back.column_gain``, the column gain re-measured (a full refresh); the ideal and
    integer backends have no clock, so nothing changes."""
    seconds = float(seconds)
    if not (np.isfinite(seconds) and seconds >= 0):
        raise ConfigError("test_delay", f"must be a non-negative number of seconds, got {seconds!r}")
    if seconds == 0 or net.write_back is None:
        return
    net.write_back.idle(seconds)


def evaluate(net: LayerNetwork, dataset, tick=None) -> dict[str, Any]:
    """Label neurons from a learning-off pass over the training set, then test by vote."""
    if isinstance(dataset, EventDataset):
        dataset = _event_view(net, dataset, None, None)
    n_classes = int(max(dataset.y_train.max(), dataset.y_test.max())) + 1
    r_train = _responses(net, dataset.x_train, tick)
    assignments = assign_labels(r_train, dataset.y_train, n_classes)
    r_test = _responses(net, dataset.x_test, tick)
    pred = predict(r_test, assignments, n_classes)
    acc = float(np.mean(pred == dataset.y_test))
    train_acc = float(np.mean(predict(r_train, assignments, n_classes) == dataset.y_train))
    return {
        "accuracy": acc,
        "train_accuracy": train_acc,
        "assignments": assignments,
        "predictions": pred,
        "confusion": confusion_matrix(dataset.y_test, pred, n_classes),
        "mean_test_spikes": float(r_test.sum(axis=1).mean()),
    }


def _checkpoints(total: int, points: int) -> list[int]:
    if points <= 1 or total == 0:
        return [total]
    # geometric-ish spacing: denser early in training
    fr = np.geomspace(1.0 / 2 ** (points - 1), 1.0, points)
    pts = sorted({max(1, int(round(f * total))) for f in fr})
    if pts[-1] != total:
        pts.append(total)
    return pts


def train_and_evaluate(
    cfg: RunConfig,
    dataset,
    synapse: str | None = None,
    seed: int = 0,
    epochs: int = 3,
    progress: Callable[..., Any] | None = None,
    *,
    curve_points: int = 4,
    n_train: int | None = None,
    n_test: int | None = None,
    desc: str | None = None,
    curve: str = "online",
    test_delay: float = 0.0,
) -> dict[str, Any]:
    """Train the network unsupervised on ``dataset`` and evaluate it.

    Samples are presented in a seeded random order each epoch.  At the end, neurons are labelled
    from a learning-off pass over the training set and the test set is classified by vote.

    The accuracy curve is either ``curve="online"`` (default; ``curve_points`` points per epoch,
    D&C style: neurons labelled from the previous window of training responses, the next window
    predicted - free, and it does not disturb training, which matters on a drifting crossbar) or
    ``curve="test"`` (``curve_points`` checkpoints, each a full learning-off labelling + test pass).

    Parameters
    ----------
    cfg : hwsnn.config.RunConfig
        The network, rules, synapse hardware and schedule (its ``task`` section is not read here:
        the caller passes the dataset, backend, seed and lengths).
    dataset
        A :class:`hwsnn.tasks.datasets.Dataset` (``x_train``, ``y_train``, ``x_test``, ``y_test``),
        presented as Poisson rates, or a :class:`hwsnn.tasks.events.EventDataset`, presented as
        event rasters (encoded once onto the presentation steps, cached in the dataset); the number
        of inputs is its ``n_in``.
    synapse : {"ideal", "integer", "crossbar"}, optional
        Synapse backend (default: ``cfg.synapse.backend``).
    seed : int
        Seeds the network (:class:`~hwsnn.engine.layer.LayerNetwork`) and the presentation order.
    epochs : int
        Passes over the training set.
    progress : callable, optional
        ``progress(total=..., desc=...)`` returning a tqdm-like bar (``update``/``close``).
    n_train, n_test : int, optional
        Use only the first ``n_train`` training / ``n_test`` test samples (quick runs).
    test_delay : float, optional
        Seconds between the end of training and the final labelling and test passes (see
        :func:`wait`; crossbar only, no effect on the ideal and integer backends).  With
        ``curve="test"`` the delay comes before the last checkpoint's passes, which are the final
        ones.

    Returns
    -------
    dict
        ``accuracy``, ``train_accuracy``, ``curve`` (list of ``{"samples", "accuracy"}``),
        ``confusion``, ``assignments``, ``samples`` (training presentations), ``seconds``,
        ``train_seconds``, ``ms_per_sample`` (training), ``reruns``, ``weights``, ``theta``,
        ``synapse``, ``seed``, ``epochs``, ``lambda_history`` (synergy weights per sample) and
        ``network`` (the trained :class:`~hwsnn.engine.layer.LayerNetwork`).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or not 0 <= epochs <= 10_000:
        raise ConfigError("epochs", f"must be an integer in [0, 10000], got {epochs!r}")
    if curve not in ("online", "test"):
        raise ConfigError("curve", f"must be one of ['online', 'test'], got {curve!r}")
    test_delay = float(test_delay)
    if not (np.isfinite(test_delay) and test_delay >= 0):
        raise ConfigError("test_delay", f"must be a non-negative number of seconds, got {test_delay!r}")
    synapse = synapse or cfg.synapse.backend
    events = isinstance(dataset, EventDataset)
    if not events:
        x_tr, y_tr = dataset.x_train, dataset.y_train
        x_te, y_te = dataset.x_test, dataset.y_test
        if n_train is not None:
            x_tr, y_tr = x_tr[:n_train], y_tr[:n_train]
        if n_test is not None:
            x_te, y_te = x_te[:n_test], y_te[:n_test]
        ds = _View(x_tr, y_tr, x_te, y_te)
    t_start = time.perf_counter()
    net = LayerNetwork(cfg, dataset.n_in, seed, backend=synapse)
    if events:
        ds = _event_view(net, dataset, n_train, n_test)
        x_tr, y_tr, x_te, y_te = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    total = epochs * len(x_tr)
    cps = _checkpoints(total, curve_points) if (total and curve == "test") else []
    n_eval = (len(cps) or 1) * (len(x_tr) + len(x_te))
    bar = progress(total=total + n_eval, desc=desc or f"{synapse} seed {seed}") if progress else None
    tick = bar.update if bar is not None else None
    order_rng = np.random.default_rng([seed, 5])
    curve_pts: list[dict] = []
    seen = 0
    train_s = 0.0
    ev = None
    # online curve (D&C style): label neurons from the previous window of training responses,
    # predict the next window by vote; costs no extra presentations and does not disturb training
    window = max(1, -(-len(x_tr) // max(1, curve_points))) if curve == "online" else 0
    bounds = {int(round((w + 1) * len(x_tr) / curve_points)) for w in range(curve_points)} if window else set()
    prev_r = prev_y = None
    cur_r = np.zeros((window, net.n_exc), np.int64) if window else None
    cur_y = np.zeros(window, np.int64) if window else None
    k = 0
    for ep in range(epochs):
        order = order_rng.permutation(len(x_tr))
        for pos, s in enumerate(order):
            t0 = time.perf_counter()
            c = _present(net, x_tr, s, True)
            train_s += time.perf_counter() - t0
            seen += 1
            if tick:
                tick()
            if window:
                cur_r[k] = c
                cur_y[k] = y_tr[s]
                k += 1
                if (pos + 1) in bounds:
                    if prev_r is not None:
                        a = assign_labels(prev_r, prev_y, n_classes)
                        acc = float(np.mean(predict(cur_r[:k], a, n_classes) == cur_y[:k]))
                        curve_pts.append({"samples": seen, "epoch": seen / len(x_tr), "accuracy": acc,
                                          "kind": "online"})
                    prev_r, prev_y = cur_r[:k].copy(), cur_y[:k].copy()
                    k = 0
            if cps and seen == cps[0]:
                cps.pop(0)
                if not cps:  # the last checkpoint's passes are the final test
                    wait(net, test_delay)
                ev = evaluate(net, ds, tick)
                curve_pts.append({"samples": seen, "epoch": seen / len(x_tr), "accuracy": ev["accuracy"],
                                  "kind": "test"})
    if ev is None or curve == "online":
        wait(net, test_delay)
        ev = evaluate(net, ds, tick)
        if curve == "test" or not curve_pts:
            curve_pts.append({"samples": seen, "epoch": seen / max(1, len(x_tr)), "accuracy": ev["accuracy"],
                              "kind": "test"})
    curve = curve_pts
    if bar is not None:
        bar.close()
    return {
        "synapse": synapse,
        "seed": int(seed),
        "epochs": int(epochs),
        "accuracy": ev["accuracy"],
        "train_accuracy": ev["train_accuracy"],
        "curve": curve,
        "confusion": ev["confusion"],
        "assignments": ev["assignments"],
        "mean_test_spikes": ev["mean_test_spikes"],
        "samples": int(seen),
        "seconds": time.perf_counter() - t_start,
        "train_seconds": train_s,
        "ms_per_sample": 1e3 * train_s / max(1, seen),
        "reruns": int(net.n_reruns),
        "weights": net.weights(),
        "theta": net.theta.copy(),
        "lambda_history": np.array(net.syn_state.history),
        "network": net,
    }


@dataclass
class _View:
    x_train: Any  # images (Poisson rates) or EncodedEvents
    y_train: np.ndarray
    x_test: Any
    y_test: np.ndarray
