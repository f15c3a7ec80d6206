"""`harden`: the toolkit's own commands, only what pulumi, pyinfra and checkov lack.

  harden policy PATH   the pull-request gate (CrossGuard rules + checkov + application checks)
  harden audit         drift and compliance evidence for auditors
  harden backup ACTION restic backups, retention, checks and restore drills of the local stack
  harden api-token     a tenant's bearer token for the API, signed with the stack's key
"""

import argparse
import sys


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="harden", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from harden.backup_cli import register as register_backup

    # `harden backup` imports only what it needs: a node's backup venv holds requirements-backup.lock, not the
    # gate's or the audit's dependencies (hosts/deploys/backup.py installs it)
    if argv[:1] != ["backup"]:
        from harden.api_token_cli import register as register_api_token
        from harden.audit_cli import register as register_audit
        from harden.gate_cli import register as register_gate

        register_gate(commands)
        register_audit(commands)
        register_api_token(commands)
    register_backup(commands)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
