"""docs/cli.md is the generated CLI reference, so the documentation cannot drift from the parsers."""

import argparse
from pathlib import Path

from hwsnn.cli import COMMANDS, build_parser
from hwsnn.cli_reference import cli_reference_markdown


def test_docs_cli_md_is_the_generated_reference():
    doc = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert doc.read_text(encoding="utf-8") == cli_reference_markdown(), (
        "regenerate with: python -m hwsnn.cli_reference > docs/cli.md")


def _parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _parsers(sub)


def test_cli_reference_has_a_section_and_a_row_for_every_command_and_option():
    lines = cli_reference_markdown().splitlines()
    headings = {ln for ln in lines if ln.startswith("#")}
    for name in COMMANDS:
        assert f"### `hwsnn {name}`" in headings
    for sub in ("device info", "device curve", "device fit", "rtl generate", "rtl verify", "rtl report"):
        assert f"#### `hwsnn {sub}`" in headings
    n_options = 0
    for p in _parsers(build_parser()):
        start = lines.index(next(h for h in lines if h.startswith("#") and h.endswith(f" `{p.prog}`")))
        end = next((k for k in range(start + 1, len(lines)) if lines[k].startswith("#")), len(lines))
        section = "\n".join(lines[start:end])
        for a in p._actions:
            for opt in a.option_strings:
                if opt not in ("-h", "--help"):
                    assert f"`{opt}`" in section, f"{opt} of {p.prog} missing from its section"
                    n_options += 1
    assert n_options > 40
