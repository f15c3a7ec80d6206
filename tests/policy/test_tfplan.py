"""The gate's plumbing: Pulumi graph -> Terraform plan JSON (type map, snake_case, blocks), engine JSON, checkov paths."""

import json
import re

from policies.gate import checkov_skip_patterns, graph_from_engine_json
from policies.tfplan import TYPE_MAP, terraform_values, to_plan


def test_names_and_blocks():
    values = terraform_values({
        "settings": {"ipConfiguration": {"ipv4Enabled": False}, "databaseFlags": [{"name": "a", "value": "on"}]},
        "networkInterfaces": [{"accessConfigs": [{}]}],
        "capabilities": {"drops": ["ALL"]},
        "labels": {"rae-service": "api"},
        "logOpts": {"max-size": "10m"},
    })
    assert values["settings"] == [{"ip_configuration": [{"ipv4_enabled": False}],
                                   "database_flags": [{"name": "a", "value": "on"}]}]
    assert values["network_interface"] == [{"access_config": [{}]}]
    assert values["capabilities"] == [{"drop": ["ALL"]}]
    assert values["labels"] == {"rae-service": "api"} and values["log_opts"] == {"max-size": "10m"}


def test_plan_shape_and_unmapped_types():
    plan, unmapped = to_plan([
        {"type": "gcp:compute/sSLPolicy:SSLPolicy", "name": "tls", "props": {"minTlsVersion": "TLS_1_3"}},
        {"type": "gcp:compute/sSLPolicy:SSLPolicy", "name": "tls", "props": {}},
        {"type": "tls:index/privateKey:PrivateKey", "name": "ca", "props": {}},
    ])
    resources = plan["planned_values"]["root_module"]["resources"]
    assert [r["address"] for r in resources] == ["google_compute_ssl_policy.tls", "google_compute_ssl_policy.tls_"]
    assert resources[0] | {"values": None} == {"address": "google_compute_ssl_policy.tls", "mode": "managed",
                                                "type": "google_compute_ssl_policy", "name": "tls", "values": None}
    assert resources[0]["values"] == {"min_tls_version": "TLS_1_3"}
    assert unmapped == ["tls:index/privateKey:PrivateKey"]


def test_type_map_targets_terraform_names():
    assert TYPE_MAP["gcp:compute/sSLPolicy:SSLPolicy"] == "google_compute_ssl_policy"
    assert all(t.startswith(("google_", "docker_")) for t in TYPE_MAP.values())


def test_engine_json_from_preview_and_stack_export(tmp_path):
    state = {"urn": "urn:pulumi:gcp::rae::gcp:compute/sSLPolicy:SSLPolicy::tls", "custom": True,
             "type": "gcp:compute/sSLPolicy:SSLPolicy", "inputs": {"profile": "RESTRICTED"}}
    component = {"urn": "urn:pulumi:gcp::rae::rae:hardening:Tls::tls", "custom": False, "type": "rae:hardening:Tls"}
    preview = tmp_path / "preview.json"
    preview.write_text('{"steps": [{"op": "create", "newState": %s}, {"op": "create", "newState": %s}]}'
                       % (json.dumps(state), json.dumps(component)))
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"version": 3, "deployment": {"resources": [state, component]}}))
    expected = [{"type": "gcp:compute/sSLPolicy:SSLPolicy", "name": "tls", "props": {"profile": "RESTRICTED"}}]
    assert graph_from_engine_json(preview) == expected == graph_from_engine_json(export)


def test_checkov_skip_patterns_are_anchored_and_keep_configured_paths():
    patterns = checkov_skip_patterns([".venv", "out", "tests/fixtures/insecure"])
    assert patterns[-1] == "tests/fixtures/insecure"
    assert re.search(patterns[0], "./.venv") and not re.search(patterns[0], "./.venvironment")
    assert re.search(patterns[1], "./out") and not re.search(patterns[1], "./components/layout.py")
