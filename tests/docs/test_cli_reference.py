"""docs/cli.md is the generated CLI reference, so the documentation cannot drift from the parsers."""

from pathlib import Path

from hwsnn.cli import COMMANDS
from hwsnn.cli_reference import cli_reference_markdown


def test_docs_cli_md_is_the_generated_reference():
    doc = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
    assert doc.read_text(encoding="utf-8") == cli_reference_markdown(), (
        "regenerate with: python -m hwsnn.cli_reference > docs/cli.md")


def test_cli_reference_covers_every_command_and_option():
    text = cli_reference_markdown()
    for name in COMMANDS:
        assert f"## `hwsnn {name}`" in text
    for sub in ("device info", "device curve", "device fit", "rtl generate", "rtl verify", "rtl report"):
        assert f"### `hwsnn {sub}`" in text
    assert "--print-config" in text and "--preset" in text
