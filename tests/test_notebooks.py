"""The walkthrough notebooks in notebooks/: committed without outputs, and each one executes top to
bottom in a fresh Jupyter kernel without a cell raising.

Each notebook sets its own small sizes (seconds to tens of seconds on the project's machine). A
section that needs a tool which is not installed (an HDL simulator) prints a line starting with
``SKIPPED:`` instead of running; the test then reports the notebook as skipped, with those lines
as the reason, so a missing tool never passes silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
SKIP_MARK = "SKIPPED:"
"""A notebook prints a line starting with this when it skips a section (what, and why)."""
CELL_TIMEOUT = 600
"""Seconds one cell may take before the run is abandoned."""


def skipped_sections(nb) -> list[str]:
    """The ``SKIPPED: ...`` lines the executed code cells printed to stdout."""
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                lines += [line.strip() for line in out.get("text", "").splitlines() if line.startswith(SKIP_MARK)]
    return lines


def stored_outputs(nb) -> list[int]:
    """Indices of the code cells that carry outputs or an execution count."""
    return [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]


def error_outputs(nb) -> list[str]:
    """``ename: evalue`` of every error output of the executed notebook."""
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def execute(nb, cwd: Path):
    """Run ``nb`` in place in a fresh ``python3`` kernel working in ``cwd``; a raising cell raises
    :class:`nbclient.exceptions.CellExecutionError`."""
    nbclient = pytest.importorskip("nbclient")
    nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def check_executed(nb, name: str) -> None:
    """No error output; any skipped section turns the test into a reported skip."""
    errors = error_outputs(nb)
    assert not errors, f"{name}: {errors}"
    skips = skipped_sections(nb)
    if skips:
        pytest.skip(f"{name} ran, but skipped {len(skips)} section(s): " + " | ".join(skips))


def test_notebooks_are_numbered():
    """01_..., 02_..., ... without gaps or duplicates (the order a reader follows)."""
    nums = [re.match(r"(\d\d)_[a-z0-9_]+$", p.stem) for p in NOTEBOOKS]
    assert all(nums), [p.name for p, m in zip(NOTEBOOKS, nums) if not m]
    assert [int(m.group(1)) for m in nums] == list(range(1, len(NOTEBOOKS) + 1)), [p.name for p in NOTEBOOKS]
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = stored_outputs(nb)
    assert not cells, f"{path.name}: code cells {cells} carry outputs; clear them before committing"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    monkeypatch.setenv("HWSNN_PROGRESS", "0")  # the kernel inherits it: no progress lines in the outputs
    nb = execute(nbformat.read(path, as_version=4), tmp_path)
    check_executed(nb, path.name)


# ---------------------------------------------------------------------------------------------- the checkers
def _nb(*cells):
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    return new_notebook(cells=[new_markdown_cell(s[3:]) if s.startswith("md:") else new_code_cell(s) for s in cells],
                        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def test_skipped_sections_and_stored_outputs_are_found():
    pytest.importorskip("nbformat")
    from nbformat.v4 import new_output

    nb = _nb("md:SKIPPED: prose is not a skip", "a = 1", "b = 2", "c = 3")
    assert stored_outputs(nb) == [] and skipped_sections(nb) == []
    nb.cells[1].outputs = [new_output("stream", name="stdout", text="ok\nSKIPPED: cosim: no simulator\n"),
                           new_output("stream", name="stderr", text="SKIPPED: on stderr is a log line\n")]
    nb.cells[2].outputs = [new_output("stream", name="stdout", text="Skipping compilation\n  SKIPPED: indented\n")]
    nb.cells[3].execution_count = 4
    assert skipped_sections(nb) == ["SKIPPED: cosim: no simulator"]
    assert stored_outputs(nb) == [1, 2, 3]


@pytest.mark.notebook
def test_a_raising_cell_fails_and_a_skipped_section_is_reported(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="deliberate"):
        execute(_nb("x = 1", "raise ValueError('deliberate')", "y = 2"), tmp_path)
    nb = execute(_nb("print('SKIPPED: section: the tool is missing')", "z = 3"), tmp_path)
    with pytest.raises(pytest.skip.Exception, match="skipped 1 section.*the tool is missing"):
        check_executed(nb, "demo.ipynb")
    check_executed(execute(_nb("print('all ran')"), tmp_path), "demo.ipynb")  # nothing skipped: passes
