"""What the run says when a host stops half-way: which operation, how far it got, that a re-run completes it."""

import logging

from pyinfra.api.state import BaseStateCallback

logger = logging.getLogger("pyinfra")


class HalfAppliedReport(BaseStateCallback):
    """Logs, when an operation fails for good on a host, that the host is now half-applied."""

    @staticmethod
    def operation_host_error(state, host, op_hash, retry_count: int = 0, max_retries: int = 0):
        if retry_count < max_retries:
            return
        order = host.op_hash_order
        position = order.index(op_hash) + 1 if op_hash in order else "?"
        name = ", ".join(sorted(state.get_op_meta(op_hash).names))
        logger.error(f"{host.print_prefix}HALF-APPLIED: the deploy stopped at operation {position} of {len(order)}, "
                     f'"{name}"; the operations before it took effect, none after it ran, and the completion '
                     "record was not written for this run. Fix the cause and re-run: a re-run applies the rest.")


def register(state) -> None:
    """Add the report to the run's state once (the deploy file runs once per host)."""
    if not any(isinstance(handler, HalfAppliedReport) for handler in state.callback_handlers):
        state.add_callback_handler(HalfAppliedReport())
