"""The insecure corpus as tagged fixtures: each one weakness, tagged with the rule it breaks and that rule's
ISO 27001:2022 controls, and whether the gate caught it (tests/fixtures/insecure; figure in benchmarks/gate.md).

A raw resource is tagged by its name: `ctr-010-var-run` breaks RAE-CTR-010 (the gate must fail it), a settings or
source file by the FILES table below. A fixture tagged `unknown` must be reported unknown: what the gate cannot
see is never passed.

Example: .venv/bin/python -m tests.policy.corpus   # prints caught/total by rule family
"""

import json
import re
import sys
from dataclasses import dataclass

from policies.catalog import RULES

# Resources named after the rule they break: <family>-<number>[-variant].
_NAMED = re.compile(r"^(ctr|sql|kms|dsk|tls|run|sec|gcs|iam|vm|stk|net|gate|bin)-(\d{3})(-[a-z0-9-]+)?$")
# Resources whose weakness the gate must report unknown, not failed.
UNKNOWN_RESOURCES = {"ctr-001-unresolved", "gate-001", "iam-001-custom-role", "run-004-job-unresolved",
                     "run-005-undeclared"}
# Resources that are part of another fixture (the volume a stack rule judges with its container).
PARTS = {"stk-001-pgdata", "stk-002-b", "scratch"}
# (file, setting or "" for the whole file, rule, expected status): settings, images, application code, secrets.
FILES = (
    ("images/Dockerfile", "", "RAE-IMG-001", "failed"), ("images/Dockerfile", "", "RAE-IMG-002", "failed"),
    ("images/Dockerfile", "", "RAE-IMG-003", "failed"), ("app/unsafe.py", "", "RAE-SAST-001", "failed"),
    ("app/requirements.txt", "", "RAE-DEP-001", "failed|unknown"), ("secrets/", "", "RAE-SCR-001", "failed"),
    *(("django/settings.py", "", f"RAE-APP-{n:03d}", "failed") for n in range(1, 12) if n != 2),
    ("django/production.py", "", "RAE-APP-002", "failed"),
    ("django_split/settings/base.py", "", "RAE-APP-001", "failed"),
    ("django_split/settings/production.py", "", "RAE-APP-008", "failed"),
    ("config/settings_pydantic.py", "memory_api_key", "RAE-APP-010", "failed"),
    ("config/settings_pydantic.py", "http://embedder.internal:8080", "RAE-APP-009", "failed"),
    ("config/settings_pydantic.py", "10.20.0.7", "RAE-APP-011", "failed"),
    ("config/env_defaults.py", "SESSION_SECRET", "RAE-APP-010", "failed"),
    ("config/env_defaults.py", "SIGNING_KEY", "RAE-APP-010", "unknown"),
)


@dataclass(frozen=True)
class Fixture:
    where: str
    rule_id: str
    controls: tuple[str, ...]
    expected: str
    caught: bool


def resource_names(result) -> set[str]:
    """Every resource the gate rendered, from the plans it wrote, plus the dynamic one no plan can hold."""
    names = {"gate-001"}
    for path in (p for p in result.artifacts if p.endswith(".plan.json")):
        with open(path) as plan:
            names |= {r["name"] for r in json.load(plan)["planned_values"]["root_module"]["resources"]}
    return names


def fixtures(result) -> list[Fixture]:
    tagged = []
    for name in sorted(resource_names(result) - PARTS):
        match = _NAMED.match(name)
        if not match:
            continue
        rule_id = f"RAE-{match.group(1).upper()}-{match.group(2)}"
        expected = "unknown" if name in UNKNOWN_RESOURCES else "failed"
        caught = any(f.rule_id == rule_id and f.status == expected and f.resource.endswith(f"::{name}")
                     for f in result.findings)
        tagged.append(Fixture(name, rule_id, RULES[rule_id].controls, expected, caught))
    for file, setting, rule_id, expected in FILES:
        caught = any(f.rule_id == rule_id and f.status in expected.split("|") and file in (f.file or f.resource)
                     and setting in f.resource for f in result.findings)
        tagged.append(Fixture(f"{file}:{setting}" if setting else file, rule_id, RULES[rule_id].controls, expected,
                              caught))
    return tagged


def main() -> int:
    import shutil
    import tempfile
    from pathlib import Path

    from policies.gate import run_gate
    from tests.fixtures.gate import CORPUS, write_fake_secrets
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "insecure"
        shutil.copytree(CORPUS, corpus)
        write_fake_secrets(corpus / "secrets")
        result = run_gate(corpus, artifacts=Path(scratch) / "artifacts")
        tagged = fixtures(result)
    caught = [f for f in tagged if f.caught]
    print(f"insecure corpus: {len(caught)}/{len(tagged)} fixtures caught with their rule "
          f"({len({f.rule_id for f in tagged})} rules)")
    for fixture in tagged:
        if not fixture.caught:
            print(f"  missed: {fixture.where} {fixture.rule_id} ({fixture.expected})")
    return 0 if len(caught) == len(tagged) else 1


if __name__ == "__main__":
    sys.exit(main())
