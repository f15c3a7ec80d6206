"""docs/components.md is generated from the components' baseline settings and must not be stale."""

from pathlib import Path

from components.controls_table import ROWS, render

REPO = Path(__file__).resolve().parents[3]


def test_docs_components_md_is_up_to_date():
    assert (REPO / "docs" / "components.md").read_text() == render(), (
        "docs/components.md is stale: run `.venv/bin/python -m components.controls_table > docs/components.md`")


def test_every_module_that_serves_controls_is_in_the_table():
    serving = {f"components.{path.stem}" for path in (REPO / "components").glob("*.py")
               if "\nSERVES = " in path.read_text()}
    assert serving == {row.module for row in ROWS}
