"""auditd: the baseline's rules (CIS Debian 12) loaded in the kernel and made immutable, persisted, log files kept,
the audit parameters on the kernel command line through GRUB; and GRUB's superuser password (baseline.BOOTLOADER),
which keeps that command line from being edited at the console."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, server, systemd

from baseline import FILESYSTEM
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
    password_hash = desired.grub_password_hash(host.data)  # checked before any change (hosts/deploys/node1.py)
    harden.grub_boot_config(name="boot loader: audit parameters on the kernel command line, superuser password (GRUB)",
                            files=((desired.GRUB_DROPIN, desired.grub_dropin_text(), "0644", False),
                                   (desired.GRUB_PASSWORD_SCRIPT, desired.grub_password_script(password_hash), "0700",
                                    True)),
                            linux_script=desired.GRUB_LINUX_SCRIPT, class_line=desired.GRUB_LINUX_CLASS,
                            unrestricted_line=desired.GRUB_LINUX_CLASS_UNRESTRICTED,
                            config=desired.GRUB_CONFIG, config_mode=FILESYSTEM.permissions[desired.GRUB_CONFIG])
    harden.audit_rules(name="audit rules loaded", rules=desired.audit_rules(), finalize=desired.audit_finalize_text(),
                       enabled=desired.audit_enabled(), path=desired.AUDIT_RULES_PATH,
                       finalize_path=desired.AUDIT_FINALIZE_PATH)
    harden.config_values(name="sysstat collects activity", path="/etc/default/sysstat", values={"ENABLED": '"true"'},
                         separator="=")
