"""OS hardening: packages, accounts and PAM, kernel modules, mounts, file modes, core dumps, sysctl."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files

from baseline import ACCOUNTS, FILESYSTEM, PACKAGES, SUDO
from hosts import desired
from hosts.facts.node import FstabTypes
from hosts.operations import harden, packages

# pam-auth-update profiles for pam_faillock (Debian ships the module but no profile)
FAILLOCK_PROFILES = {
    "faillock": ("Name: Deny access after repeated failures (pam_faillock)\nDefault: yes\nPriority: 0\n"
                 "Auth-Type: Primary\nAuth:\n\t[default=die]\tpam_faillock.so authfail\n"),
    "faillock_notify": ("Name: Count failures and reset on success (pam_faillock)\nDefault: yes\nPriority: 1024\n"
                        "Auth-Type: Primary\nAuth:\n\trequisite\tpam_faillock.so preauth\n"
                        "Account-Type: Primary\nAccount:\n\trequired\tpam_faillock.so\n"),
}


@deploy("Packages: security suite in the sources, baseline tools present, legacy services absent")
def harden_packages():
    security = packages.security_source(name="apt sources include the security suite",
                                        mirror=host.data.get("apt_security_mirror"))
    wanted = list(PACKAGES.required + PACKAGES.integrity_tools)
    missing = [package for package in wanted if package not in host.get_fact(DebPackages)]
    if missing:
        apt.update(name=f"apt package lists refreshed (to install {', '.join(missing)})")
    else:
        apt.update(name="apt package lists refreshed (security suite added)", _if=security.did_change)
    apt.packages(name="baseline packages present", packages=wanted)
    apt.packages(name="legacy clear-text packages absent", packages=list(FILESYSTEM.legacy_packages), present=False)


@deploy("Accounts and PAM (baseline.ACCOUNTS)")
def harden_accounts():
    config_files = desired.ACCOUNT_CONFIG_FILES
    harden.config_values(name="login.defs", path=config_files["login_defs"][0], values=ACCOUNTS.login_defs,
                         separator=config_files["login_defs"][1])
    harden.config_values(name="pwquality", path=config_files["pwquality"][0], values=ACCOUNTS.pwquality,
                         separator=config_files["pwquality"][1])
    harden.config_values(name="faillock", path=config_files["faillock"][0], values=ACCOUNTS.faillock,
                         separator=config_files["faillock"][1])
    for profile, text in FAILLOCK_PROFILES.items():
        harden.text_file(name=f"pam profile {profile}", path=f"/usr/share/pam-configs/{profile}", text=text)
    harden.pam_profiles(name="pam_faillock enabled", profiles=tuple(FAILLOCK_PROFILES), module="pam_faillock.so")
    files.line(name="su only for the sudo group", path=desired.SU_PAM_PATH,
               line=r"^#?\s*auth\s+required\s+pam_wheel\.so.*$", replace=desired.su_restriction_line())
    harden.text_file(name="umask for login shells", path=desired.UMASK_PROFILE_PATH, text=desired.umask_profile_text())
    harden.text_file(name="login shells: idle timeout, no core dumps", path=desired.SESSION_PROFILE_PATH,
                     text=desired.session_profile_text())
    harden.sudoers_dropin(name="sudo: use_pty and its own log file (validated by visudo)", text=desired.sudoers_text(),
                          path=SUDO.dropin)


@deploy("Filesystem: modes, core dumps off")
def harden_files():
    harden.modes(name="file modes", wanted=FILESYSTEM.permissions)
    for path, text in desired.core_dump_files().items():
        harden.text_file(name=f"no core dumps ({path})", path=path, text=text)


@deploy("Kernel: sysctl, module blacklist, mount options")
def harden_kernel():
    harden.sysctl(name="sysctl values", values=desired.sysctl_values())
    # a module the next boot needs (vfat for /boot/efi on a UEFI node) is never blacklisted
    harden.text_file(name="kernel module blacklist", path=desired.MODULE_BLACKLIST_PATH,
                     text=desired.module_blacklist_text(host.get_fact(FstabTypes)))
    harden.mount_options(name="mount options", wanted=desired.mount_options())
