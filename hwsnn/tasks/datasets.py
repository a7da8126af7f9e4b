"""Offline datasets: scikit-learn 8x8 digits and the MNIST test set shipped as package data.

Both loaders return a :class:`Dataset` with flattened images scaled to ``[0, 1]`` and a seeded,
stratified train/test split, so experiments are reproducible per seed and never download.

>>> ds = load_dataset("digits", seed=0)
>>> ds.x_train.shape, ds.x_test.shape
((1297, 64), (500, 64))

The MNIST files are in the original idx format (``t10k-images-idx3-ubyte.gz`` and
``t10k-labels-idx1-ubyte.gz``); :func:`load_mnist_idx` parses any idx file (gzip or raw).

``"event_digits"`` and ``"event_mnist"`` are the same images and splits recorded by a simulated
event camera (:class:`hwsnn.tasks.events.EventDataset`, parameters
:class:`hwsnn.tasks.events.EventParams`): ``n_in`` is ``2 * pixels`` (ON and OFF channels).
"""

from __future__ import annotations

import functools
import gzip
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from hwsnn.errors import ConfigError

__all__ = ["Dataset", "load_dataset", "load_mnist_idx", "mnist_file", "DATASETS"]

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "mnist", "event_digits", "event_mnist")

# idx type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_MNIST_FILES = {
    "images": "t10k-images-idx3-ubyte.gz",
    "labels": "t10k-labels-idx1-ubyte.gz",
}


@dataclass(frozen=True)
class Dataset:
    """A classification dataset with a fixed train/test split.

    Images are flattened row-major; ``x.reshape(-1, *image_shape)`` restores them.
    """

    name: str
    """Dataset name as passed to :func:`load_dataset` (``"digits"`` or ``"mnist"``)."""
    x_train: np.ndarray = field(repr=False)
    """Training inputs, float64, shape ``(n_train, n_in)``, values in ``[0, 1]``."""
    y_train: np.ndarray = field(repr=False)
    """Training labels, int64, shape ``(n_train,)``, values ``0 .. n_classes-1``."""
    x_test: np.ndarray = field(repr=False)
    """Test inputs, float64, shape ``(n_test, n_in)``, values in ``[0, 1]``."""
    y_test: np.ndarray = field(repr=False)
    """Test labels, int64, shape ``(n_test,)``."""
    image_shape: tuple[int, int]
    """Height and width of one image, e.g. ``(8, 8)`` or ``(28, 28)``."""
    seed: int = 0
    """Seed of the train/test split."""

    @property
    def n_in(self) -> int:
        """Number of input features (pixels) per sample."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """Number of classes (labels are ``0 .. n_classes-1``)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test samples."""
        return int(self.x_test.shape[0])


def _read_bytes(path: Path, field_name: str) -> bytes:
    """Read a file, transparently un-gzipping when it starts with the gzip magic bytes."""
    if not path.is_file():
        raise ConfigError(field_name, f"file not found: {path}")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ConfigError(field_name, f"{path} is not a valid gzip file ({exc})") from None
    return raw


def load_mnist_idx(path: str | os.PathLike, *, field_name: str = "path") -> np.ndarray:
    """Parse an idx file (the MNIST format), gzip-compressed or raw.

    The header is a 4-byte magic number ``0x00 0x00 <type> <ndim>`` followed by ``ndim``
    big-endian uint32 dimension sizes; the data follow in big-endian order.

    Parameters
    ----------
    path : path-like
        File to read (``.gz`` or uncompressed; detected from the content, not the name).
    field_name : str, optional
        Field named in the error message when the file is missing or malformed.

    Returns
    -------
    numpy.ndarray
        Array of shape ``dims`` in native byte order (``uint8`` for MNIST images and labels).

    Raises
    ------
    ConfigError
        If the file is missing, the magic number or type code is invalid, or the data size does
        not match the header.
    """
    path = Path(path)
    raw = _read_bytes(path, field_name)
    if len(raw) < 4:
        raise ConfigError(field_name, f"{path}: too short for an idx header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise ConfigError(field_name, f"{path}: bad idx magic number {raw[:4].hex()} (must start with 0000)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_DTYPES:
        raise ConfigError(field_name, f"{path}: unknown idx data type code 0x{code:02x}")
    if ndim == 0:
        raise ConfigError(field_name, f"{path}: idx header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ConfigError(field_name, f"{path}: truncated idx header ({len(raw)} < {header_len} bytes)")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    got = len(raw) - header_len
    if got != expected:
        raise ConfigError(
            field_name,
            f"{path}: idx data size {got} bytes does not match header dims {dims} ({expected} bytes)",
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def mnist_file(kind: str) -> Path:
    """Path of a shipped MNIST test-set file (``kind`` is ``"images"`` or ``"labels"``).

    The file is located with :mod:`importlib.resources` inside the installed package.
    """
    if kind not in _MNIST_FILES:
        raise ConfigError("kind", f"unknown MNIST file kind {kind!r}; expected one of {sorted(_MNIST_FILES)}")
    res = resources.files("hwsnn").joinpath("data", "mnist", _MNIST_FILES[kind])
    return Path(os.fspath(res))


@functools.lru_cache(maxsize=2)
def _mnist_raw() -> tuple[np.ndarray, np.ndarray]:
    images = load_mnist_idx(mnist_file("images"), field_name="dataset.mnist.images")
    labels = load_mnist_idx(mnist_file("labels"), field_name="dataset.mnist.labels")
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ConfigError("dataset.mnist.images", f"expected (n, 28, 28) images, got shape {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ConfigError("dataset.mnist.labels", f"{labels.shape[0]} labels for {images.shape[0]} images")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _stratified_split(y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a seeded stratified split (sklearn ``train_test_split``), in shuffled order."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=n_test, stratify=y, random_state=seed, shuffle=True)
    return np.asarray(tr), np.asarray(te)


def load_dataset(name: str, seed: int = 0, *, n_test: int | None = None, events=None):
    """Load a dataset with a seeded stratified train/test split.

    Parameters
    ----------
    name : {"digits", "mnist", "event_digits", "event_mnist"}
        ``"digits"``: scikit-learn's 1,797 8x8 digits, pixel/16, split 1,297 train / 500 test.
        ``"mnist"``: the 10,000-image MNIST test set shipped with hwsnn, pixel/255, split
        8,000 train / 2,000 test.  ``"event_digits"`` / ``"event_mnist"``: the same images and
        split, each recorded by the simulated event camera (an
        :class:`hwsnn.tasks.events.EventDataset`; recordings are made on first use).
    seed : int, optional
        Seed of the split (the same seed always gives the same split); for the event datasets
        also of the sensor's mismatch, noise and jitter.
    n_test : int, optional
        Override the number of test samples (default 500 for digits, 2,000 for MNIST).
    events : hwsnn.tasks.events.EventParams, optional
        The event camera of the event datasets (default ``EventParams()``); ignored by the
        static ones.

    Returns
    -------
    Dataset or hwsnn.tasks.events.EventDataset

    Raises
    ------
    ConfigError
        Unknown ``name``, invalid ``n_test``, ``seed`` or ``events``, or missing/corrupt data files.
    """
    if not isinstance(name, str) or name.lower() not in DATASETS:
        raise ConfigError("dataset", f"unknown dataset {name!r}; expected one of {list(DATASETS)}")
    name = name.lower()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("seed", f"must be a non-negative integer, got {seed!r}")
    static = name[len("event_"):] if name.startswith("event_") else name
    if static == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        x = d.data.astype(np.float64) / 16.0
        y = d.target.astype(np.int64)
        shape = (8, 8)
        default_test = 500
    else:
        images, labels = _mnist_raw()
        x = images.reshape(images.shape[0], -1).astype(np.float64) / 255.0
        y = labels.astype(np.int64)
        shape = (28, 28)
        default_test = 2000
    n_test = default_test if n_test is None else n_test
    n_classes = int(y.max()) + 1
    if isinstance(n_test, bool) or not isinstance(n_test, (int, np.integer)) or not (
        n_classes <= n_test <= len(y) - n_classes
    ):
        raise ConfigError("n_test", f"must be an integer in [{n_classes}, {len(y) - n_classes}], got {n_test!r}")
    tr, te = _stratified_split(y, int(n_test), int(seed))
    if static != name:
        return _event_dataset(name, x, y, shape, tr, te, int(seed), events)
    return Dataset(
        name=name,
        x_train=np.ascontiguousarray(x[tr]),
        y_train=y[tr].copy(),
        x_test=np.ascontiguousarray(x[te]),
        y_test=y[te].copy(),
        image_shape=shape,
        seed=int(seed),
    )


def _event_dataset(name, x, y, shape, tr, te, seed: int, events):
    """The event-camera recordings of a static dataset's split; the recording id of an image is its
    index in the full static set."""
    from hwsnn.tasks.events import EventDataset, EventParams

    params = EventParams() if events is None else events
    if not isinstance(params, EventParams):
        raise ConfigError("events", f"must be an EventParams, got {type(events).__name__}")
    return EventDataset(
        name=name,
        images_train=np.ascontiguousarray(x[tr]).reshape(-1, *shape),
        y_train=y[tr].copy(),
        ids_train=np.asarray(tr, np.int64),
        images_test=np.ascontiguousarray(x[te]).reshape(-1, *shape),
        y_test=y[te].copy(),
        ids_test=np.asarray(te, np.int64),
        params=params,
        seed=seed,
    )
