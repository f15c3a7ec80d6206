"""docs/components.md is generated from the baseline settings the components' code reads where it enforces them,
and must not be stale."""

from pathlib import Path

from components.controls_table import ROWS, render, settings_enforced

REPO = Path(__file__).resolve().parents[3]


def test_docs_components_md_is_up_to_date():
    assert (REPO / "docs" / "components.md").read_text() == render(), (
        "docs/components.md is stale: run `.venv/bin/python -m components.controls_table > docs/components.md`")


def test_every_component_module_is_in_the_table():
    components = {f"components.{path.stem}" for path in (REPO / "components").glob("*.py")
                  if "(pulumi.ComponentResource)" in path.read_text()}
    assert components <= {row.module for row in ROWS}, components - {row.module for row in ROWS}


def test_no_hand_kept_list_of_settings_remains():
    """A component registers what it enforces where it enforces it; a `SERVES` list is not enforcement."""
    assert not [path.name for path in (REPO / "components").glob("*.py") if "\nSERVES = " in path.read_text()]


def test_every_row_names_settings_its_code_reads():
    for row in ROWS:
        settings = settings_enforced(row)
        assert settings, f"{row.component}: its modules read no baseline setting"


def test_settings_come_from_the_enforcing_code(tmp_path, monkeypatch):
    """A setting read only in a comment or a docstring does not count; one read in code does."""
    import components.controls_table as table

    module = tmp_path / "components" / "probe.py"
    module.parent.mkdir()
    module.write_text('"""TLS.min_version"""\nfrom baseline import TLS, require\n# TLS.cipher_suites\n'
                      'def build(v):\n    require(v == TLS.min_version, "tls", TLS.controls("min_version"))\n')
    monkeypatch.setattr(table, "PROJECT_DIR", tmp_path)
    assert settings_enforced(table.Row("Probe", "components.probe", "docker", "a probe")) == [("TLS", "min_version")]
