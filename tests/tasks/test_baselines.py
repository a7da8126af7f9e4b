"""Tests of hwsnn.tasks.baselines (k-means + label vote)."""

from __future__ import annotations

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.tasks.baselines import kmeans_baseline, kmeans_vote, label_clusters
from hwsnn.tasks.datasets import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def test_kmeans_digits_accuracy_and_determinism(digits):
    r = kmeans_baseline(digits, n_clusters=100, seed=0)
    # published-style k-means+vote on 8x8 digits with 100 clusters is ~96 %
    assert 0.93 <= r.accuracy <= 0.99
    assert r.train_accuracy >= 0.93
    assert r.cluster_labels.shape == (100,) and r.centers.shape == (100, 64)
    r2 = kmeans_baseline(digits, n_clusters=100, seed=0)
    assert r2.accuracy == r.accuracy
    np.testing.assert_array_equal(r2.centers, r.centers)
    d = r.to_dict()
    assert d["method"] == "kmeans_vote" and d["n_clusters"] == 100 and d["accuracy"] == r.accuracy


def test_more_clusters_help_and_few_clusters_hurt(digits):
    acc10 = kmeans_baseline(digits, n_clusters=10, seed=0).accuracy
    acc100 = kmeans_baseline(digits, n_clusters=100, seed=0).accuracy
    assert acc10 < acc100
    assert 0.5 < acc10 < 0.93


def test_mutant_shuffled_labels_gives_chance(digits):
    """Checker sanity: with labels unrelated to the inputs the same pipeline drops to ~10 %."""
    rng = np.random.default_rng(0)
    y_tr = rng.permutation(digits.y_train)
    r = kmeans_vote(digits.x_train, y_tr, digits.x_test, digits.y_test, n_clusters=100, seed=0)
    assert r.accuracy < 0.2


def test_accuracy_matches_independent_nearest_centre_vote(digits):
    """Recompute the readout by hand from the returned centres: nearest centre, majority label."""
    r = kmeans_baseline(digits, n_clusters=50, seed=1)
    d_tr = ((digits.x_train[:, None, :] - r.centers[None]) ** 2).sum(-1)
    a_tr = d_tr.argmin(1)
    labels = np.array(
        [np.bincount(digits.y_train[a_tr == c], minlength=10).argmax() for c in range(50)]
    )
    np.testing.assert_array_equal(labels, r.cluster_labels)
    d_te = ((digits.x_test[:, None, :] - r.centers[None]) ** 2).sum(-1)
    acc = np.mean(labels[d_te.argmin(1)] == digits.y_test)
    assert acc == pytest.approx(r.accuracy)


def test_label_clusters_ties_and_empty():
    assign = np.array([0, 0, 1, 1, 1, 0])
    y = np.array([2, 3, 1, 1, 0, 3])
    labels = label_clusters(assign, y, n_clusters=3, n_classes=4)
    # cluster 0: {2,3,3} -> 3 ; cluster 1: {1,1,0} -> 1 ; cluster 2 empty -> most frequent overall (1 and 3 tie -> 1)
    assert labels.tolist() == [3, 1, 1]
    tie = label_clusters(np.array([0, 0]), np.array([4, 2]), 1, 5)
    assert tie.tolist() == [2]


def test_bad_inputs_name_the_field(digits):
    with pytest.raises(ConfigError) as ei:
        kmeans_baseline(digits, n_clusters=0)
    assert ei.value.field == "n_clusters"
    with pytest.raises(ConfigError) as ei:
        kmeans_vote(digits.x_train, digits.y_train[:-1], digits.x_test, digits.y_test)
    assert ei.value.field == "y_train"
    with pytest.raises(ConfigError) as ei:
        kmeans_vote(digits.x_train, digits.y_train, digits.x_test[:, :10], digits.y_test)
    assert ei.value.field == "x_test"
    x = digits.x_train.copy()
    x[0, 0] = np.nan
    with pytest.raises(ConfigError) as ei:
        kmeans_vote(x, digits.y_train, digits.x_test, digits.y_test)
    assert ei.value.field == "x_train"
