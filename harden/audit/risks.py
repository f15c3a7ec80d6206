"""Seed 000 §2 risks and the Annex A controls that treat them; their status is read from the evidence."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Risk:
    id: str
    title: str
    impact: str
    controls: tuple[str, ...]
    treatment: str


RISKS: tuple[Risk, ...] = (
    Risk("R1", "Memory leakage: user memories (PII) leak into logs or to other tenants", "confidentiality",
         ("A.5.15", "A.8.3", "A.8.11", "A.8.12", "A.5.34", "A.8.15"),
         "Tenant isolation by row-level security, PII masking in logs, secrets as files, redacted audit outputs."),
    Risk("R2", "Prompt injection alters long-term memory", "integrity",
         ("A.8.26", "A.8.28", "A.8.15", "A.5.28"),
         "Input validation at the API, an append-only audit_log of memory writes, secure coding gate."),
    Risk("R3", "Node1 compromise or theft exposes cached vectors", "availability, confidentiality",
         ("A.7.9", "A.7.10", "A.8.24", "A.8.20", "A.8.22", "A.8.5", "A.8.9", "A.8.13"),
         "LUKS2 on data volumes and swap, SSH over Tailscale only, mTLS control node <-> Node1, hardened host, "
         "encrypted off-site backups."),
    Risk("R4", "Dependency vulnerabilities: supply chain attacks via Python packages", "integrity, confidentiality",
         ("A.5.19", "A.5.21", "A.8.8", "A.8.19", "A.8.25", "A.8.28", "A.8.32"),
         "Hash-pinned lock, pip-audit and SBOM in CI, images pinned by digest, bandit in the gate."),
)
