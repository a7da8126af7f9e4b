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


# ---------------------------------------------------------------------------------------------- permissions
@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_result_files_get_the_umask_permissions(tmp_path, umask, mode):
    import os

    from hwsnn.io import save_figure, write_text

    old = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
        write_json(tmp_path / "b.json", {"a": 1})
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        save_figure(plt.figure(), tmp_path / "c.png")
    finally:
        os.umask(old)
    for name in ("a.txt", "b.json", "c.png"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name


# ---------------------------------------------------------------------------------------------- run folders
def test_run_folder_complete_has_manifest_with_sizes_and_hashes(tmp_path):
    import hashlib

    from hwsnn.io import INCOMPLETE, MANIFEST, RunFolder, check_run_folder

    out = tmp_path / "r"
    with RunFolder(out, argv=["run", "--seed", "3"]):
        write_json(out / "metrics.json", {"a": 1})
        (out / "sub").mkdir()
        (out / "sub" / "x.bin").write_bytes(b"\x00" * 10)
        assert (out / INCOMPLETE).is_file()
    assert not (out / INCOMPLETE).exists()
    m = json.loads((out / MANIFEST).read_text())
    files = {f["path"]: f for f in m["files"]}
    assert set(files) == {"metrics.json", "sub/x.bin"}
    assert files["sub/x.bin"]["bytes"] == 10
    assert files["sub/x.bin"]["sha256"] == hashlib.sha256(b"\x00" * 10).hexdigest()
    assert m["command"] == "hwsnn run --seed 3" and m["complete"] is True
    assert check_run_folder(out) == []
    (out / "metrics.json").write_text('{"a": 2}\n')
    assert check_run_folder(out) == ["metrics.json: changed since the run finished"]
    (out / "sub" / "x.bin").unlink()
    assert "sub/x.bin: missing" in check_run_folder(out)


def test_run_folder_failure_leaves_it_visibly_incomplete(tmp_path):
    from hwsnn.io import INCOMPLETE, MANIFEST, RunFolder, check_run_folder

    out = tmp_path / "r"
    with RunFolder(out):
        write_json(out / "metrics.json", {"a": 1})
    assert check_run_folder(out) == []
    for exc, why in ((KeyboardInterrupt(), "interrupted"), (RuntimeError("boom"), "RuntimeError: boom")):
        with pytest.raises(type(exc)):
            with RunFolder(out):
                write_json(out / "metrics.json", {"a": 2})
                raise exc
        assert not (out / MANIFEST).exists()  # the previous run's manifest does not vouch for new files
        assert why in (out / INCOMPLETE).read_text()
        assert f"{INCOMPLETE} marker present" in check_run_folder(out)


def test_run_folder_removes_leftover_temporary_files(tmp_path):
    from hwsnn.io import RunFolder, check_run_folder

    out = tmp_path / "r"
    (out / "plots").mkdir(parents=True)
    stale = [out / ".metrics.json.0a1b2c3d.hwsnn-tmp.json", out / "plots" / ".c.png.deadbeef.hwsnn-tmp.png"]
    for p in stale:
        p.write_text("half")
    (out / "keep.txt").write_text("user file")
    with RunFolder(out) as f:
        assert sorted(f.cleaned) == [".metrics.json.0a1b2c3d.hwsnn-tmp.json", "plots/.c.png.deadbeef.hwsnn-tmp.png"]
    assert not any(p.exists() for p in stale) and (out / "keep.txt").read_text() == "user file"
    assert check_run_folder(out) == []


def test_run_folder_refuses_a_concurrent_writer(tmp_path):
    from hwsnn.errors import HwsnnError
    from hwsnn.io import RunFolder

    with RunFolder(tmp_path / "r"):
        with pytest.raises(HwsnnError, match="another hwsnn run"):
            with RunFolder(tmp_path / "r"):
                pass


def test_provenance_without_git(tmp_path, monkeypatch):
    import hwsnn
    from hwsnn.io import provenance

    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable
    p = provenance(["run", "my config.toml"])
    assert p["git_commit"] is None and p["git_dirty"] is None
    assert p["hwsnn_version"] == hwsnn.__version__
    assert p["command"] == "hwsnn run 'my config.toml'"
