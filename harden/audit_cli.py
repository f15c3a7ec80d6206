"""Registers `harden audit`; its owner replaces this placeholder."""


def register(commands) -> None:
    parser = commands.add_parser("audit", help="not built yet")
    parser.set_defaults(run=lambda args: (print("harden audit: not built yet"), 2)[1])
