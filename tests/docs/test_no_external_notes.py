"""Code, docs and notebooks point into docs/, never at notes a user of the project does not have.

The project's documentation is docs/ (built by tests/docs/test_docs_build.py).  Early development
used private notes: design contracts ("DESIGN Contract 1"), numbered sections of research notes
("devices.md 8(b)", "plasticity.md section 7") and rule labels ("R4a", "R5c").  None of these
exist for a user, so a citation of them anywhere in the shipped files fails this test.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ["hwsnn", "sim", "rtl", "benchmarks", "docs", "notebooks", "tests"]
SUFFIXES = {".py", ".md", ".rst", ".txt", ".toml", ".v", ".sv", ".ipynb", ".json", ".cfg", ".ini", ".yaml", ".yml"}
SKIP_DIRS = {"__pycache__", "_build", ".ipynb_checkpoints"}

CITATIONS = {
    "private note file": re.compile(r"seed-methods|hardware-and-style|toolchain\.md"),
    # a bare note name; paths into the project (docs/devices.md, benchmarks/devices.md, a Markdown
    # link "[...](devices.md)" or "(../plasticity.md)") are fine
    "research note": re.compile(r"(?<![\w/.-])(?<!\]\()(?:devices|plasticity)\.md"),
    "design document": re.compile(r"\bDESIGN\b"),
    "numbered contract": re.compile(r"\bContracts? [0-9]"),
    "rule label": re.compile(r"\bR[1-9][0-9]?[a-d]?(?:-[a-d])?\b"),
}


def citations(text: str) -> list[tuple[str, str]]:
    """``(kind, matched text)`` of every citation of the private notes in ``text``."""
    return [(kind, m.group(0)) for kind, rx in CITATIONS.items() for m in rx.finditer(text)]


def _text_of(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None  # binary data (images, compressed data sets)
    if path.suffix == ".ipynb":  # cell sources only: outputs hold base64 images
        nb = json.loads(text)
        return "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
    return text


def _files():
    me = Path(__file__).resolve()
    for top in SCANNED:
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and p.suffix in SUFFIXES and not SKIP_DIRS & set(p.parts) and p.resolve() != me:
                yield p


def _report(paths) -> list[str]:
    out = []
    for p in paths:
        text = _text_of(p)
        if text is None:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            for kind, hit in citations(line):
                out.append(f"{p.relative_to(ROOT)}:{n}: {kind} {hit!r}: {line.strip()[:100]}")
    return out


def test_no_shipped_file_cites_private_notes():
    files = list(_files())
    assert len(files) > 100  # the scan really sees the tree
    hits = _report(files)
    assert not hits, "point these at docs/ instead:\n" + "\n".join(hits)


def test_readme_cites_no_private_notes():
    hits = _report([ROOT / "README.md"])
    assert not hits, "point these at docs/ instead:\n" + "\n".join(hits)


@pytest.mark.parametrize("text", [
    "Model (``devices.md`` 8(b); every term", "reference devices.md section 8(b)", "# devices.md: PPF",
    "(plasticity.md section 7)", "see seed-methods", "hardware-and-style notes", "toolchain.md",
    "(DESIGN Contract 3)", "DESIGN.md", "in Contract 1's pseudo-code", "Homeostasis (R4a-c)", "R5c: gated",
    "rule labels R1 variants",
])
def test_checker_flags_each_citation_form(text):
    assert citations(text)


@pytest.mark.parametrize("text", [
    "see docs/devices.md, section Drift", "details in `benchmarks/devices.md`", "[device model](devices.md)",
    "([plasticity rules](../plasticity.md))", "R_MINUS_OFFSET = 8", "r_wire", "design of the core",
    "RTL units", "the contract's pseudo-code", "R2D2", "TR5c", "docs/plasticity.md",
])
def test_checker_leaves_project_references_alone(text):
    assert not citations(text)
