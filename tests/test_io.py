"""Atomic result files and JSON conversion."""

import json
import math

import numpy as np
import pytest

from hwsnn.io import atomic_write, to_jsonable, write_json


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"a": 1})

    def boom(tmp):
        with open(tmp, "w") as fh:
            fh.write('{"half": ')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert json.loads(target.read_text()) == {"a": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_nan_is_refused_not_written(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        write_json(tmp_path / "x.json", {"acc": float("nan")})
    assert not (tmp_path / "x.json").exists()


def test_numpy_values_become_plain_json():
    out = to_jsonable({"a": np.int64(3), "b": np.float32(0.5), "c": np.arange(3), "d": (1, np.bool_(True))})
    assert out == {"a": 3, "b": 0.5, "c": [0, 1, 2], "d": [1, True]}
    assert not math.isnan(out["b"])
