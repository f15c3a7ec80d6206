"""The hardening baseline: every tunable of the toolkit, stated once, each with its ISO 27001:2022 controls.

Pure data. Importing it pulls in nothing from Pulumi, pyinfra or checkov, so a pyinfra operator,
checkov's own virtual environment and the reports can all read it.
"""

from baseline.annex_a import Control, control, controls, describe
from baseline.host import (ACCOUNTS, AUDITD, BOOTLOADER, DEPLOY, DOCKER_DAEMON, FILESYSTEM, FIREWALL, JOURNALD, KERNEL_MODULES, LUKS, USB,
                           PACKAGES, SSH, SUDO, SYSCTL, TIME)
from baseline.model import Section, Setting
from baseline.service import API, BACKUP, COMPUTE, CONTAINER, DATABASE, IDENTITY, KMS, NETWORK, SECRETS, STORAGE, TLS

SECTIONS: tuple[Section, ...] = (
    TLS, API, CONTAINER, KMS, SECRETS, IDENTITY, NETWORK, COMPUTE, STORAGE, DATABASE, BACKUP,
    SSH, DEPLOY, SYSCTL, ACCOUNTS, SUDO, KERNEL_MODULES, FILESYSTEM, BOOTLOADER, USB, AUDITD, FIREWALL, JOURNALD, DOCKER_DAEMON, PACKAGES, TIME, LUKS,
)


class BaselineViolation(ValueError):
    """An input that would weaken the baseline; the message names the setting and the controls at stake."""

    def __init__(self, problem: str, controls_at_stake):
        self.problem = problem
        self.controls = tuple(controls_at_stake)
        super().__init__(f"{problem} [ISO 27001:2022 {describe(self.controls)}]")


def require(condition: bool, problem: str, controls_at_stake) -> None:
    """Raise BaselineViolation(problem, controls) unless condition holds."""
    if not condition:
        raise BaselineViolation(problem, controls_at_stake)


__all__ = [
    "ACCOUNTS", "API", "AUDITD", "BACKUP", "BOOTLOADER", "USB", "BaselineViolation", "COMPUTE", "CONTAINER", "Control", "DATABASE", "DEPLOY", "DOCKER_DAEMON",
    "FILESYSTEM", "FIREWALL", "IDENTITY", "JOURNALD", "KERNEL_MODULES", "KMS", "LUKS", "NETWORK",
    "PACKAGES", "SECRETS", "SECTIONS", "SSH", "STORAGE", "SUDO", "SYSCTL", "Section", "Setting", "TIME", "TLS", "control", "controls",
    "describe", "require",
]
