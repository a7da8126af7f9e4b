"""Non-spiking reference baselines for the unsupervised tasks.

The natural yardstick for a winner-take-all STDP network (each neuron learns a prototype, is
labelled by the class it responds to most, and the test label is a vote) is k-means clustering
with the same readout: ``n`` cluster centres take the place of ``n`` neurons, each centre is
labelled with the majority training label of its members, and a test sample gets the label of
its nearest centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hwsnn.errors import ConfigError

__all__ = ["BaselineResult", "kmeans_vote", "kmeans_baseline", "label_clusters"]


@dataclass(frozen=True)
class BaselineResult:
    """Outcome of a clustering + label-vote baseline."""

    method: str
    """Baseline name, e.g. ``"kmeans_vote"``."""
    n_clusters: int
    """Number of clusters (the stand-in for the number of excitatory neurons)."""
    seed: int
    """Seed of the clustering."""
    accuracy: float
    """Fraction of test samples classified correctly."""
    train_accuracy: float
    """Fraction of training samples whose cluster label equals their own label."""
    cluster_labels: np.ndarray = field(repr=False)
    """Class assigned to each cluster, int64, shape ``(n_clusters,)``."""
    centers: np.ndarray = field(repr=False)
    """Cluster centres, shape ``(n_clusters, n_in)``."""

    def to_dict(self) -> dict:
        """JSON-able summary (without the centres)."""
        return {
            "method": self.method,
            "n_clusters": self.n_clusters,
            "seed": self.seed,
            "accuracy": float(self.accuracy),
            "train_accuracy": float(self.train_accuracy),
        }


def label_clusters(assign: np.ndarray, y: np.ndarray, n_clusters: int, n_classes: int) -> np.ndarray:
    """Label each cluster with the most frequent class among its members.

    Ties go to the smallest class index; an empty cluster gets the overall most frequent class.

    Parameters
    ----------
    assign : numpy.ndarray
        Cluster index of each sample, shape ``(n,)``.
    y : numpy.ndarray
        Class of each sample, shape ``(n,)``.
    n_clusters, n_classes : int
        Number of clusters and classes.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(n_clusters,)``.
    """
    votes = np.zeros((n_clusters, n_classes), dtype=np.int64)
    np.add.at(votes, (assign, y), 1)
    labels = votes.argmax(axis=1)
    empty = votes.sum(axis=1) == 0
    if empty.any():
        labels[empty] = np.bincount(y, minlength=n_classes).argmax()
    return labels.astype(np.int64)


def _check_xy(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y)
    if x.ndim != 2:
        raise ConfigError(f"x_{name}", f"must be 2-D (samples x features), got shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise ConfigError(f"y_{name}", f"must have shape ({x.shape[0]},), got {y.shape}")
    if not np.all(np.isfinite(x)):
        raise ConfigError(f"x_{name}", "contains NaN or infinite values")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise ConfigError(f"y_{name}", "labels must be non-negative integers")
    return x, y.astype(np.int64)


def kmeans_vote(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    n_clusters: int = 100,
    seed: int = 0,
    *,
    n_init: int = 3,
) -> BaselineResult:
    """k-means (scikit-learn ``KMeans``, k-means++ init, seeded) with majority-label readout.

    Parameters
    ----------
    x_train, y_train : numpy.ndarray
        Training inputs ``(n_train, n_in)`` and integer labels ``(n_train,)``; the clustering
        never sees the labels, they only name the clusters afterwards.
    x_test, y_test : numpy.ndarray
        Test inputs and labels.
    n_clusters : int, optional
        Number of clusters, at most ``n_train``.
    seed : int, optional
        ``random_state`` of the clustering.
    n_init : int, optional
        Number of k-means restarts (best inertia kept).

    Returns
    -------
    BaselineResult
    """
    from sklearn.cluster import KMeans

    x_train, y_train = _check_xy(x_train, y_train, "train")
    x_test, y_test = _check_xy(x_test, y_test, "test")
    if x_test.shape[1] != x_train.shape[1]:
        raise ConfigError("x_test", f"has {x_test.shape[1]} features, x_train has {x_train.shape[1]}")
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, (int, np.integer)) or not (
        1 <= n_clusters <= x_train.shape[0]
    ):
        raise ConfigError("n_clusters", f"must be an integer in [1, {x_train.shape[0]}], got {n_clusters!r}")
    if isinstance(n_init, bool) or not isinstance(n_init, (int, np.integer)) or n_init < 1:
        raise ConfigError("n_init", f"must be a positive integer, got {n_init!r}")
    n_classes = int(max(y_train.max(), y_test.max() if y_test.size else 0)) + 1
    km = KMeans(n_clusters=int(n_clusters), n_init=int(n_init), random_state=int(seed))
    assign_train = km.fit_predict(x_train)
    labels = label_clusters(assign_train, y_train, int(n_clusters), n_classes)
    pred_test = labels[km.predict(x_test)] if x_test.shape[0] else np.zeros(0, np.int64)
    acc = float(np.mean(pred_test == y_test)) if y_test.size else float("nan")
    train_acc = float(np.mean(labels[assign_train] == y_train))
    return BaselineResult(
        method="kmeans_vote",
        n_clusters=int(n_clusters),
        seed=int(seed),
        accuracy=acc,
        train_accuracy=train_acc,
        cluster_labels=labels,
        centers=km.cluster_centers_.copy(),
    )


def kmeans_baseline(dataset, n_clusters: int = 100, seed: int = 0, *, n_init: int = 3) -> BaselineResult:
    """:func:`kmeans_vote` on a :class:`hwsnn.tasks.datasets.Dataset` (its own split)."""
    return kmeans_vote(
        dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test, n_clusters, seed, n_init=n_init
    )
