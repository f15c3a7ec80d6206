"""Seed 000 §2 risks, the Annex A controls that treat them, and the measures of their treatment.

A measure names the evidence that shows it (globs on evidence keys, `source:subject:check`); the report calls it
implemented only when such evidence passed in this run, and planned when none was collected. A measure with no
evidence pattern is planned until a collector observes it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Measure:
    text: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Risk:
    id: str
    title: str
    impact: str
    controls: tuple[str, ...]
    measures: tuple[Measure, ...]


RISKS: tuple[Risk, ...] = (
    Risk("R1", "Memory leakage: user memories (PII) leak into logs or to other tenants", "confidentiality",
         ("A.5.15", "A.8.3", "A.8.11", "A.8.12", "A.5.34", "A.8.15"),
         (Measure("secrets reach containers as files, never as environment variables",
                  ("container:*:secrets_in_environment",)),
          Measure("tenant isolation by row-level security on the tenant column, and no direct table access for the "
                  "application role", ("database:*:row_level_security", "database:*:app_role_direct_access")),
          Measure("memory contents kept out of the database logs", ("database:*:memory_contents_out_of_logs",)),
          Measure("the audit's own outputs pass a redaction layer")),
         ),
    Risk("R2", "Prompt injection alters long-term memory", "integrity",
         ("A.8.26", "A.8.28", "A.8.15", "A.5.28"),
         (Measure("input validation at the API"),
          Measure("a tamper-evident audit log of memory writes", ("database:*:audit_chain_intact",
                                                                  "database:*:audit_chain_keeps_previous_head",
                                                                  "database:*:audit_log_append_only")),
          Measure("no high-severity bandit finding in the code the gate judged", ("gate:*:RAE-SAST-*",))),
         ),
    Risk("R3", "Node1 compromise or theft exposes cached vectors", "availability, confidentiality",
         ("A.7.9", "A.7.10", "A.8.24", "A.8.20", "A.8.22", "A.8.5", "A.8.9", "A.8.13"),
         (Measure("data volumes and swap on LUKS2", ("host:*:encryption of *", "stack:*:encrypted_at_rest")),
          Measure("SSH with keys only, reachable over Tailscale only", ("host:*:sshd *", "host:*:nftables table *")),
          Measure("hardened kernel settings and audit rules", ("host:*:sysctl *", "host:*:audit rule *")),
          Measure("services refuse clients without a certificate (planned between the control node and Node1: mutual TLS)", ("tls:*:client_without_certificate_refused",)),
          Measure("encrypted off-site backups")),
         ),
    Risk("R4", "Dependency vulnerabilities: supply chain attacks via Python packages", "integrity, confidentiality",
         ("A.5.19", "A.5.21", "A.8.8", "A.8.19", "A.8.25", "A.8.28", "A.8.32"),
         (Measure("no dependency with a known vulnerability (the gate's dependency audit)", ("gate:*:RAE-DEP-*",)),
          Measure("images pinned by sha256 id or digest in the program the gate judged", ("gate:*:RAE-CTR-011",)),
          Measure("running containers use the image the stack pins", ("stack:*:attribute:image",))),
         ),
)
