"""Tests of hwsnn.tasks.datasets: idx parser, shipped MNIST, digits, seeded stratified splits."""

from __future__ import annotations

import gzip
import struct
from importlib import resources

import numpy as np
import pytest

from hwsnn.errors import ConfigError
from hwsnn.tasks import datasets as dsmod
from hwsnn.tasks.datasets import Dataset, load_dataset, load_mnist_idx, mnist_file


def _idx_bytes(arr: np.ndarray, code: int, be_dtype: str) -> bytes:
    """Independent idx writer: magic 00 00 <code> <ndim>, big-endian uint32 dims, big-endian data."""
    header = bytes([0, 0, code, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(be_dtype).tobytes()


# ---------------------------------------------------------------------------------------------
# idx parser on files written here


@pytest.mark.parametrize("compress", [False, True])
def test_idx_roundtrip_uint8_3d(tmp_path, compress):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    data = _idx_bytes(arr, 0x08, ">u1")
    p = tmp_path / ("a.idx3.gz" if compress else "a.idx3")
    p.write_bytes(gzip.compress(data) if compress else data)
    out = load_mnist_idx(p)
    assert out.shape == (5, 3, 4)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


def test_idx_gzip_detected_by_content_not_name(tmp_path):
    arr = np.arange(7, dtype=np.uint8)
    p = tmp_path / "labels.raw"  # no .gz suffix, gzip content
    p.write_bytes(gzip.compress(_idx_bytes(arr, 0x08, ">u1")))
    np.testing.assert_array_equal(load_mnist_idx(p), arr)


@pytest.mark.parametrize(
    "code,be,vals",
    [
        (0x09, ">i1", [-128, -1, 0, 127]),
        (0x0B, ">i2", [-30000, -2, 513, 30000]),
        (0x0C, ">i4", [-(2**31), -5, 65536, 2**31 - 1]),
        (0x0D, ">f4", [-1.5, 0.0, 3.25, 1e10]),
        (0x0E, ">f8", [-1e-300, 0.1, 2.5, 1e300]),
    ],
)
def test_idx_other_types_are_big_endian(tmp_path, code, be, vals):
    arr = np.array(vals).reshape(2, 2)
    p = tmp_path / "x.idx"
    p.write_bytes(_idx_bytes(arr, code, be))
    out = load_mnist_idx(p)
    assert out.dtype.byteorder in ("=", "|") or out.dtype.isnative
    np.testing.assert_array_equal(out, arr.astype(be))


def _expect_config_error(p, match):
    with pytest.raises(ConfigError, match=match) as ei:
        load_mnist_idx(p, field_name="dataset.images")
    assert ei.value.field == "dataset.images"


def test_idx_bad_magic(tmp_path):
    data = bytearray(_idx_bytes(np.zeros((2, 2), np.uint8), 0x08, ">u1"))
    data[0] = 1
    p = tmp_path / "bad"
    p.write_bytes(bytes(data))
    _expect_config_error(p, "magic")


def test_idx_unknown_type_code(tmp_path):
    data = bytearray(_idx_bytes(np.zeros((2, 2), np.uint8), 0x08, ">u1"))
    data[2] = 0x07
    p = tmp_path / "bad"
    p.write_bytes(bytes(data))
    _expect_config_error(p, "type code")


def test_idx_size_mismatch_truncated_and_extra(tmp_path):
    good = _idx_bytes(np.zeros((3, 4), np.uint8), 0x08, ">u1")
    p = tmp_path / "trunc"
    p.write_bytes(good[:-1])
    _expect_config_error(p, "does not match")
    p2 = tmp_path / "extra"
    p2.write_bytes(good + b"\x00")
    _expect_config_error(p2, "does not match")
    # the header itself claims more dims than there are bytes
    p3 = tmp_path / "hdr"
    p3.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">I", 2))
    _expect_config_error(p3, "truncated idx header")
    p4 = tmp_path / "tiny"
    p4.write_bytes(b"\x00\x00")
    _expect_config_error(p4, "too short")


def test_idx_dims_in_header_matter(tmp_path):
    """A header whose dims disagree with the data (same byte count, other shape) gives that shape."""
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    raw = bytes([0, 0, 8, 2]) + struct.pack(">II", 4, 3) + arr.tobytes()
    p = tmp_path / "t"
    p.write_bytes(raw)
    assert load_mnist_idx(p).shape == (4, 3)


def test_idx_missing_file_and_bad_gzip(tmp_path):
    _expect_config_error(tmp_path / "nope.gz", "file not found")
    p = tmp_path / "broken.gz"
    p.write_bytes(b"\x1f\x8b" + b"garbage" * 10)
    _expect_config_error(p, "gzip")


# ---------------------------------------------------------------------------------------------
# shipped MNIST


def test_mnist_files_are_package_data():
    root = resources.files("hwsnn") / "data" / "mnist"
    names = {e.name for e in root.iterdir()}
    assert {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} <= names
    assert mnist_file("images").is_file() and mnist_file("labels").is_file()
    # package data must not point outside the package (no ../shared at run time)
    pkg_dir = resources.files("hwsnn")
    assert str(mnist_file("images")).startswith(str(pkg_dir))
    with pytest.raises(ConfigError):
        mnist_file("train")


def test_shipped_mnist_contents():
    images = load_mnist_idx(mnist_file("images"))
    labels = load_mnist_idx(mnist_file("labels"))
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    # published MNIST t10k class counts
    expected = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert np.bincount(labels, minlength=10).tolist() == expected
    assert images.max() == 255 and images.min() == 0
    # borders are mostly blank, centres mostly ink: a real digit image, not noise
    assert images[:, :2, :].mean() < 1.0
    assert images[:, 10:18, 10:18].mean() > 60
    # first test label of the canonical file is 7, second is 2
    assert labels[:3].tolist() == [7, 2, 1]


# ---------------------------------------------------------------------------------------------
# load_dataset


@pytest.mark.parametrize(
    "name,n_train,n_test,n_in,shape,levels",
    [("digits", 1297, 500, 64, (8, 8), 17), ("mnist", 8000, 2000, 784, (28, 28), 256)],
)
def test_split_sizes_shapes_ranges(name, n_train, n_test, n_in, shape, levels):
    ds = load_dataset(name, seed=0)
    assert isinstance(ds, Dataset) and ds.name == name
    assert ds.x_train.shape == (n_train, n_in) and ds.x_test.shape == (n_test, n_in)
    assert ds.y_train.shape == (n_train,) and ds.y_test.shape == (n_test,)
    assert ds.n_in == n_in and ds.n_classes == 10 and ds.image_shape == shape
    assert ds.n_train == n_train and ds.n_test == n_test
    for x in (ds.x_train, ds.x_test):
        assert x.dtype == np.float64
        assert x.min() == 0.0 and x.max() == 1.0
        # values are exactly k/(levels-1): the scaling is pixel/16 resp. pixel/255
        k = x * (levels - 1)
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    assert ds.y_train.dtype == np.int64 and set(np.unique(ds.y_train)) == set(range(10))


@pytest.mark.parametrize("name", ["digits", "mnist"])
def test_split_is_a_stratified_partition(name):
    ds = load_dataset(name, seed=3)
    # the split partitions the full set: train + test rows == all rows (as multisets of rows+labels)
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        full_x, full_y = d.data / 16.0, d.target
    else:
        imgs = load_mnist_idx(mnist_file("images"))
        full_x, full_y = imgs.reshape(10000, -1) / 255.0, load_mnist_idx(mnist_file("labels"))

    def keyset(x, y):
        return sorted((int(c), hash(r.tobytes())) for r, c in zip(x, y))

    both = keyset(np.vstack([ds.x_train, ds.x_test]), np.concatenate([ds.y_train, ds.y_test]))
    assert both == keyset(full_x, full_y)
    # stratified: each class's test share equals the overall test share within 1 sample
    frac = ds.n_test / (ds.n_train + ds.n_test)
    full_counts = np.bincount(full_y, minlength=10)
    test_counts = np.bincount(ds.y_test, minlength=10)
    assert np.all(np.abs(test_counts - frac * full_counts) <= 1.0)


def test_determinism_and_seed_dependence():
    a = load_dataset("digits", seed=0)
    b = load_dataset("digits", seed=0)
    c = load_dataset("digits", seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_test, c.x_test)
    m0 = load_dataset("mnist", seed=0)
    m0b = load_dataset("mnist", seed=0)
    m1 = load_dataset("mnist", seed=1)
    np.testing.assert_array_equal(m0.y_train, m0b.y_train)
    np.testing.assert_array_equal(m0.x_test, m0b.x_test)
    assert not np.array_equal(m0.y_train, m1.y_train)


def test_train_is_class_mixed_not_sorted():
    ds = load_dataset("digits", seed=0)
    # a sorted-by-class order would make online learners see one class at a time
    assert np.count_nonzero(np.diff(ds.y_train[:100])) > 50


def test_returned_arrays_are_independent_copies():
    a = load_dataset("mnist", seed=0)
    a.x_train[:] = 0.0
    b = load_dataset("mnist", seed=0)
    assert b.x_train.max() == 1.0


def test_n_test_override_and_errors():
    ds = load_dataset("digits", seed=0, n_test=200)
    assert ds.n_test == 200 and ds.n_train == 1597
    with pytest.raises(ConfigError) as ei:
        load_dataset("cifar10")
    assert ei.value.field == "dataset"
    with pytest.raises(ConfigError) as ei:
        load_dataset("digits", n_test=5)
    assert ei.value.field == "n_test"
    with pytest.raises(ConfigError) as ei:
        load_dataset("digits", seed=-1)
    assert ei.value.field == "seed"


def test_missing_mnist_file_names_the_field(monkeypatch, tmp_path):
    monkeypatch.setattr(dsmod, "mnist_file", lambda kind: tmp_path / f"{kind}.gz")
    dsmod._mnist_raw.cache_clear()
    try:
        with pytest.raises(ConfigError) as ei:
            load_dataset("mnist")
        assert ei.value.field == "dataset.mnist.images"
    finally:
        dsmod._mnist_raw.cache_clear()


def test_corrupt_mnist_header_names_the_field(monkeypatch, tmp_path):
    bad = tmp_path / "images.gz"
    bad.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">III", 10, 28, 28) + b"\x00" * 100))
    good_labels = mnist_file("labels")
    monkeypatch.setattr(dsmod, "mnist_file", lambda kind: bad if kind == "images" else good_labels)
    dsmod._mnist_raw.cache_clear()
    try:
        with pytest.raises(ConfigError) as ei:
            load_dataset("mnist")
        assert ei.value.field == "dataset.mnist.images"
    finally:
        dsmod._mnist_raw.cache_clear()
