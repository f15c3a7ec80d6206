"""Registers `harden policy`; its owner replaces this placeholder."""


def register(commands) -> None:
    parser = commands.add_parser("policy", help="not built yet")
    parser.set_defaults(run=lambda args: (print("harden policy: not built yet"), 2)[1])
