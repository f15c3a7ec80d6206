"""auditd: the baseline's rules (CIS Debian 12) loaded in the kernel and made immutable, persisted, log files kept,
the audit parameters on the kernel command line through GRUB."""

from pyinfra.api import deploy
from pyinfra.operations import apt, server, systemd

from hosts import desired
from hosts.operations import harden


@deploy("auditd (baseline.AUDITD)")
def harden_audit():
    apt.packages(name="auditd present", packages=["auditd"])
    systemd.service(name="auditd enabled and running", service="auditd", running=True, enabled=True)
    config = harden.config_values(name="auditd.conf", path="/etc/audit/auditd.conf", values=desired.auditd_conf(),
                                  separator=" = ")
    # auditd refuses `systemctl restart`; SIGHUP makes it re-read auditd.conf
    server.shell(name="auditd re-reads its configuration", commands=["kill -HUP $(pidof auditd)"],
                 _if=config.did_change)
    harden.grub_kernel_parameters(name="audit parameters on the kernel command line (GRUB)",
                                  text=desired.grub_dropin_text(), path=desired.GRUB_DROPIN)
    harden.audit_rules(name="audit rules loaded", rules=desired.audit_rules(), finalize=desired.audit_finalize_text(),
                       enabled=desired.audit_enabled(), path=desired.AUDIT_RULES_PATH,
                       finalize_path=desired.AUDIT_FINALIZE_PATH)
    harden.config_values(name="sysstat collects activity", path="/etc/default/sysstat", values={"ENABLED": '"true"'},
                         separator="=")
