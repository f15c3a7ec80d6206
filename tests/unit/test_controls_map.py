"""docs/controls.md is generated from the code, and every baseline setting has an enforcer and something that checks
it (a gate rule or a verifier), unless the baseline marks it planned or it is a known gap that has not closed."""

import textwrap

from harden import controls_map

REPO = controls_map.REPO


def test_every_setting_has_an_enforcer_and_a_check_or_is_planned():
    assert controls_map.gaps(controls_map.usages()) == []


def test_the_settings_the_issue_named_are_gone_or_planned():
    import baseline

    assert not hasattr(baseline, "LOGGING")  # pii_masking and log retention_days: nothing enforced them
    assert baseline.TLS.setting("client_cert_required_for_nodes").planned
    # restic backups, the append-only off-site copy and the drills now enforce these, and the audit reads them
    rows = {usage.name: usage for usage in controls_map.usages()}
    for name in ("BACKUP.copies", "BACKUP.restore_verified", "BACKUP.retention_days"):
        usage = rows[name]
        assert usage.setting.planned or (usage.where["enforcer"] and (usage.where["gate"] or usage.where["verifier"])), name
    assert "core_dumps" not in dict(baseline.FILESYSTEM.items())


def test_docs_controls_md_is_current():
    assert (REPO / "docs" / "controls.md").read_text() == controls_map.render(), \
        "docs/controls.md is stale: python -m harden.controls_map > docs/controls.md"


def test_a_setting_counts_where_it_is_read_or_enforced_not_where_it_is_listed(tmp_path):
    module = tmp_path / "example.py"
    module.write_text(textwrap.dedent('''
        from baseline import CONTAINER, SSH, require
        SERVES = ((CONTAINER, "tmpfs"),)
        KEYWORDS = ("permit_root_login",)
        _C = CONTAINER.controls

        def build(spec):
            require(spec.pids_limit == CONTAINER.pids_limit, "pids", _C("read_only_rootfs"))
            return {key: getattr(SSH, key) for key in KEYWORDS}
        '''))
    found = {(section, key) for section, key, _ in controls_map.references(module)}
    assert found == {("CONTAINER", "pids_limit"), ("CONTAINER", "read_only_rootfs"), ("SSH", "permit_root_login")}


def test_a_new_gap_fails(monkeypatch):
    rows = controls_map.usages()
    listed = next(u for u in rows if u.name == "FIREWALL.ssh_interfaces")  # closed: hosts/verify.py reads it
    assert listed.where["enforcer"] and listed.where["verifier"] and not controls_map.gaps(rows)
    monkeypatch.setitem(listed.where, "verifier", [])
    monkeypatch.setitem(listed.where, "gate", [])
    assert any(p.startswith("FIREWALL.ssh_interfaces: no gate rule or verifier") for p in controls_map.gaps(rows))
    monkeypatch.setitem(controls_map.KNOWN_GAPS, "FIREWALL.ssh_interfaces", "a gap noted when the map was drawn")
    assert not any(p.startswith("FIREWALL.ssh_interfaces") for p in controls_map.gaps(rows))
    listed.where["verifier"].append("harden/audit/stack.py:1")
    assert any("remove it from the list" in p for p in controls_map.gaps(rows))
    protect = next(u for u in rows if u.name == "KMS.prevent_destroy")  # closed: RAE-KMS-003 reads the protect option
    assert protect.where["enforcer"] and protect.where["gate"] and "KMS.prevent_destroy" not in controls_map.KNOWN_GAPS


def test_a_closed_gap_that_reopens_fails(monkeypatch):
    rows = controls_map.usages()
    curve = next(u for u in rows if u.name == "TLS.ecdsa_curve")
    assert curve.where["enforcer"] and curve.where["verifier"] and "TLS.ecdsa_curve" not in controls_map.KNOWN_GAPS
    monkeypatch.setitem(curve.where, "verifier", [])
    assert any(p.startswith("TLS.ecdsa_curve: no gate rule or verifier") for p in controls_map.gaps(rows))


def test_places_name_the_function_so_an_unrelated_edit_above_does_not_stale_the_doc(tmp_path):
    source = textwrap.dedent('''
        from baseline import SSH

        class Checks:
            def port(self):
                return SSH.max_auth_tries

        def level():
            return SSH.log_level
        ''')
    module = tmp_path / "example.py"
    module.write_text(source)
    before = sorted(controls_map.places(module))
    assert before == [("SSH", "log_level", "level"), ("SSH", "max_auth_tries", "Checks.port")]
    module.write_text("# an edit that moves every line\n\n\n" + source)
    assert sorted(controls_map.places(module)) == before
