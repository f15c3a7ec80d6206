"""Print how to reach a deployed stack: endpoints, CA certificate, and any unencrypted-volume exemption.

Reads `pulumi stack output --json` (secrets stay masked) of the stack named on the command line; run
after `source scripts/pulumi-env.sh` so the project's engine and state backend are used.

    python -m components.connect_info --stack local
"""

import argparse
import json
import subprocess
import sys

from components.postgres_runtime import APP_ROLE, DATABASE_NAME

_ENDPOINTS = (("postgresEndpoint", "Postgres (TLS 1.3, client certificate + scram-sha-256)"), ("apiEndpoint", "API via TLS 1.3 proxy"),
              ("apiUrl", "API (HTTPS load balancer, TLS 1.3)"), ("sqlConnectionName", "Cloud SQL"),
              ("qdrantEndpoint", "Qdrant"), ("caCertFile", "CA certificate file"), ("backupCommand", "backup"))


def stack_outputs(stack: str) -> dict:
    """The stack's outputs as the engine reports them (secret values masked)."""
    # The engine on PATH is the one scripts/pulumi-env.sh selected; fixed argv, no shell.
    completed = subprocess.run(["pulumi", "stack", "output", "--json", "--stack", stack],  # nosec B603 B607
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"`pulumi stack output --stack {stack}` failed: {completed.stderr.strip()}")
    return json.loads(completed.stdout or "{}")


def describe(outputs: dict) -> list[str]:
    """Human-readable lines; exemptions are printed as failing A.8.24 items, never hidden."""
    lines = [f"{label:<38} {outputs[key]}" for key, label in _ENDPOINTS if outputs.get(key)]
    lines += connect_commands(outputs)
    for volume, why in sorted((outputs.get("unencryptedVolumes") or {}).items()):
        lines.append(f"A.8.24 NOT MET: volume {volume} is not on an encrypted device: {why}")
    return lines


def connect_commands(outputs: dict) -> list[str]:
    """How to connect with TLS 1.3 and the private CA; passwords are read from their files, never printed."""
    ca, commands = outputs.get("caCertFile"), []
    if ca and outputs.get("postgresEndpoint"):
        host, port = outputs["postgresEndpoint"].rsplit(":", 1)
        password_file = (outputs.get("secretFiles") or {}).get("postgres-app-password", "<app password file>")
        cert = outputs.get("postgresAppClientCertFile", "<app client certificate>")
        key = outputs.get("postgresAppClientKeyFile", "<app client key>")
        # libpq uses a client key only when the caller owns it (or root does) with mode 0600.
        commands.append(f"  install -m 0600 {key} ~/.rae-app.key")
        commands.append(f"  PGPASSWORD=\"$(cat {password_file})\" psql \"host={host} port={port} dbname={DATABASE_NAME} "
                        f"user={APP_ROLE} sslmode=verify-full sslrootcert={ca} sslcert={cert} sslkey=$HOME/.rae-app.key "
                        f"ssl_min_protocol_version=TLSv1.3\"")
    if ca and outputs.get("apiEndpoint"):
        commands.append(f"  curl --tlsv1.3 --cacert {ca} https://{outputs['apiEndpoint']}/health")
        if "apiTokenSigningKeyPem" in outputs:  # a tenant route needs that tenant's token (`harden api-token`)
            commands.append("  TOKEN=$(pulumi stack output --show-secrets apiTokenSigningKeyPem | "
                            ".venv/bin/harden api-token --tenant alpha)")
            commands.append(f"  curl --tlsv1.3 --cacert {ca} -H \"Authorization: Bearer $TOKEN\" "
                            f"https://{outputs['apiEndpoint']}/tenants/alpha/memories")
    return ["", "connect (TLS 1.3, verified against the stack's CA):", *commands] if commands else []


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        print("\n".join(describe(stack_outputs(args.stack))))
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
