"""The documentation in docs/ builds with Sphinx, with every warning an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sphinx_build_has_no_warnings(tmp_path):
    out = tmp_path / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1", "-q", "-b", "html",
         str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert proc.returncode == 0, f"sphinx-build failed:\n{proc.stderr[-8000:]}"
    assert not proc.stderr.strip(), f"sphinx-build printed warnings:\n{proc.stderr[-8000:]}"
    for page in ["index", "devices", "crossbar", "plasticity", "engine", "config", "cli",
                 "hardware/fixed_point", "hardware/learning_core", "hardware/cosim",
                 "howto/add_device_law", "howto/add_rule", "api/index", "api/devices"]:
        assert (out / f"{page}.html").is_file(), f"page {page} was not built"
    # autodoc really imported the package: a documented class appears in the API page
    assert "DeviceArray" in (out / "api" / "devices.html").read_text(encoding="utf-8")
