"""docs/config.md is the generated config reference, so the documentation cannot drift."""

from pathlib import Path

from hwsnn.config import config_reference_markdown


def test_docs_config_md_is_the_generated_reference():
    doc = Path(__file__).resolve().parents[2] / "docs" / "config.md"
    assert doc.read_text(encoding="utf-8") == config_reference_markdown(), (
        "regenerate with: python -m hwsnn.config.reference > docs/config.md")
