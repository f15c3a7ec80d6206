"""Baseline for physical nodes (Node1): SSH, kernel, accounts, audit, firewall, disks, Docker daemon.

At least dev-sec's ssh_hardening and os_hardening, plus what dev-sec lacks (auditd rules, nftables,
LUKS verification, post-quantum key exchange). The pyinfra deploys apply these values, their facts
read them back, and the reports cite them.
"""

from baseline.model import Section, Setting as S

SSH = Section(
    "ssh",
    # Post-quantum hybrids first where OpenSSH offers them; exactly one classical KEX is kept, under the
    # name paramiko (pyinfra's transport) speaks, so the deploy never locks itself out.
    kex_preferred=S(("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com"),
                    ("A.8.24", "A.8.20"), "Hybrid post-quantum key exchange where the installed OpenSSH offers it."),
    kex_classical=S(("curve25519-sha256@libssh.org",), ("A.8.24",),
                    "The one classical KEX, kept for paramiko 4 (pyinfra), which knows only this name."),
    ciphers=S(("chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"),
              ("A.8.24",), "AEAD ciphers only; aes-gcm is kept for paramiko."),
    macs=S(("hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"),
           ("A.8.24",), "Encrypt-then-MAC only."),
    host_key_algorithms=S(("ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"), ("A.8.24", "A.8.5"),
                          "No ECDSA (NIST curves) and no SHA-1 signatures."),
    host_key_types=S(("ed25519",), ("A.8.24",), "Only an Ed25519 host key is kept."),
    user_key_algorithms=S(("ssh-ed25519", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
                           "ssh-ed25519-cert-v01@openssh.com", "sk-ssh-ed25519-cert-v01@openssh.com",
                           "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com", "rsa-sha2-512", "rsa-sha2-256"),
                          ("A.8.5", "A.8.24"),
                          "User keys: Ed25519, FIDO security keys (sk-*, the P-256 one for keys without Ed25519), "
                          "their certificates (accepted only under a configured user CA), RSA without SHA-1."),
    allow_groups=S(("sudo",), ("A.8.2", "A.5.15"),
                   "Only members of these groups may log in over SSH (CIS 5.1.4); the deploy refuses to apply it "
                   "unless the connecting user is a member, so it cannot lock its operator out."),
    trusted_user_ca_path=S("/etc/ssh/trusted_user_ca_keys", ("A.8.5", "A.5.16"),
                           "Where the optional OpenSSH user CA keys are written (host data ssh_user_ca_keys); "
                           "TrustedUserCAKeys is set only when keys are configured."),
    permit_root_login=S("no", ("A.8.2", "A.8.5"), "Administrators log in as themselves and escalate with sudo."),
    password_authentication=S("no", ("A.8.5", "A.5.17"), "Keys only."),
    kbd_interactive_authentication=S("no", ("A.8.5",), "No password prompts by another name."),
    permit_empty_passwords=S("no", ("A.8.5",), "Never."),
    pubkey_authentication=S("yes", ("A.8.5",), "Key authentication."),
    max_auth_tries=S(2, ("A.8.5",), "Two key attempts, then the connection is dropped."),
    max_sessions=S(10, ("A.8.6",), "Bounded multiplexed sessions (pyinfra uses several)."),
    login_grace_time=S(30, ("A.8.5",), "Seconds to authenticate."),
    client_alive_interval=S(300, ("A.8.5",), "Idle sessions are probed every 5 minutes."),
    client_alive_count_max=S(2, ("A.8.5",), "and dropped after 2 silent probes (Lynis SSH-7408)."),
    tcp_keep_alive=S("no", ("A.8.5",), "Liveness through the encrypted client-alive probes only, not spoofable TCP keepalives."),
    allow_tcp_forwarding=S("no", ("A.8.20", "A.8.22"), "No tunnels through the node."),
    allow_agent_forwarding=S("no", ("A.8.20",), "Agent keys never reach the node."),
    allow_stream_local_forwarding=S("no", ("A.8.20",), "No socket forwarding."),
    x11_forwarding=S("no", ("A.8.20",), "No X11."),
    permit_tunnel=S("no", ("A.8.20",), "No tun devices."),
    gateway_ports=S("no", ("A.8.20",), "Forwarded ports never bind publicly."),
    permit_user_environment=S("no", ("A.8.2",), "Users cannot inject environment into sshd."),
    log_level=S("VERBOSE", ("A.8.15",), "Key fingerprints of every login are logged."),
    strict_modes=S("yes", ("A.8.3",), "sshd refuses world-writable key files."),
    use_dns=S("no", ("A.8.20",), "No reverse lookups on login."),
    compression=S("no", ("A.8.24",), "No compression before encryption."),
    print_motd=S("no", ("A.8.9",), "Quiet logins."),
    banner=S("/etc/issue.net", ("A.5.10",), "Authorised use only."),
    moduli_min_bits=S(3072, ("A.8.24",), "Small Diffie-Hellman groups are removed from /etc/ssh/moduli."),
)

DEPLOY = Section(
    "deploy",
    # How the deploy's SSH client (pyinfra over paramiko) reaches a node: the deploy checks it before it reads
    # or changes anything, wherever the operator's inventory lives (hosts/connection.py). And what it leaves.
    strict_host_key_checking=S("yes", ("A.8.20", "A.8.5"),
                               "An unknown or changed host key is refused, never added (pyinfra's default adds "
                               "unknown keys)."),
    known_hosts_pinned=S(True, ("A.8.20",), "Each host names the known_hosts file its key is checked against."),
    key_file_only=S(True, ("A.8.5", "A.5.17"),
                    "One named private key: no SSH agent, no key lookup in ~/.ssh, no password."),
    forward_agent=S(False, ("A.8.20", "A.8.5"), "The operator's agent never reaches the node."),
    upload_dir=S("/tmp", ("A.8.9",),
                 "Uploads go through the shared /tmp: once libpam-tmpdir is installed, root's private TMPDIR is "
                 "not writable by the SSH user that uploads."),
    completion_marker=S("/var/lib/harden/deploy-completed", ("A.8.9", "A.8.32"),
                        "The deploy's last operation records the baseline it brought the node to; a run that stopped "
                        "half-way leaves it absent or older, and the verifier reports the node as not completed."),
)

SYSCTL = Section(
    "sysctl",
    values=S({
        # network (dev-sec os_hardening)
        "net.ipv4.conf.all.rp_filter": "1",
        "net.ipv4.conf.default.rp_filter": "1",
        "net.ipv4.icmp_echo_ignore_broadcasts": "1",
        "net.ipv4.icmp_ignore_bogus_error_responses": "1",
        "net.ipv4.icmp_ratelimit": "100",
        "net.ipv4.icmp_ratemask": "88089",
        "net.ipv4.tcp_timestamps": "0",
        "net.ipv4.conf.all.arp_ignore": "1",
        "net.ipv4.conf.all.arp_announce": "2",
        "net.ipv4.tcp_rfc1337": "1",
        "net.ipv4.tcp_syncookies": "1",
        "net.ipv4.conf.all.shared_media": "1",
        "net.ipv4.conf.default.shared_media": "1",
        "net.ipv4.conf.all.accept_source_route": "0",
        "net.ipv4.conf.default.accept_source_route": "0",
        "net.ipv4.conf.all.accept_redirects": "0",
        "net.ipv4.conf.default.accept_redirects": "0",
        "net.ipv4.conf.all.secure_redirects": "0",
        "net.ipv4.conf.default.secure_redirects": "0",
        "net.ipv4.conf.all.send_redirects": "0",
        "net.ipv4.conf.default.send_redirects": "0",
        "net.ipv4.conf.all.log_martians": "1",
        "net.ipv4.conf.default.log_martians": "1",
        "net.ipv6.conf.all.accept_redirects": "0",
        "net.ipv6.conf.default.accept_redirects": "0",
        "net.ipv6.conf.all.accept_source_route": "0",
        "net.ipv6.conf.default.accept_source_route": "0",
        "net.ipv6.conf.all.accept_ra": "0",
        "net.ipv6.conf.default.accept_ra": "0",
        "net.ipv6.conf.default.router_solicitations": "0",
        "net.ipv6.conf.default.accept_ra_rtr_pref": "0",
        "net.ipv6.conf.default.accept_ra_pinfo": "0",
        "net.ipv6.conf.default.accept_ra_defrtr": "0",
        "net.ipv6.conf.default.autoconf": "0",
        "net.ipv6.conf.default.dad_transmits": "0",
        "net.ipv6.conf.default.max_addresses": "1",
        "net.ipv6.conf.all.forwarding": "0",
        # kernel (dev-sec os_hardening, plus Lynis KRNL-6000 items dev-sec lacks)
        "kernel.sysrq": "0",
        "kernel.randomize_va_space": "2",
        "kernel.core_uses_pid": "1",
        "kernel.kptr_restrict": "2",
        "kernel.dmesg_restrict": "1",
        "kernel.yama.ptrace_scope": "1",
        "kernel.unprivileged_bpf_disabled": "1",
        "kernel.perf_event_paranoid": "3",
        "net.core.bpf_jit_harden": "2",
        "dev.tty.ldisc_autoload": "0",
        "fs.suid_dumpable": "0",
        "fs.protected_hardlinks": "1",
        "fs.protected_symlinks": "1",
        "fs.protected_fifos": "2",
        "fs.protected_regular": "2",
        "vm.mmap_min_addr": "65536",
        "kernel.ctrl-alt-del": "0",
        "net.ipv4.conf.all.bootp_relay": "0",
        "net.ipv4.conf.all.proxy_arp": "0",
    }, ("A.8.9", "A.8.20", "A.8.7"), "dev-sec os_hardening's sysctl set plus Lynis' kernel items."),
    # Docker publishes ports through the FORWARD path, so IPv4 forwarding stays on; our nftables forward
    # chain (FIREWALL.forward_policy) confines it.
    ipv4_forwarding=S("1", ("A.8.20",), "Needed by Docker on Node1; confined by the firewall."),
)

ACCOUNTS = Section(
    "accounts",
    login_defs=S({
        "UMASK": "027",
        "PASS_MAX_DAYS": "60",
        "PASS_MIN_DAYS": "7",
        "PASS_WARN_AGE": "7",
        "LOGIN_RETRIES": "5",
        "LOGIN_TIMEOUT": "60",
        "ENCRYPT_METHOD": "YESCRYPT",
        "SHA_CRYPT_MIN_ROUNDS": "640000",
        "YESCRYPT_COST_FACTOR": "8",
        "SYS_UID_MIN": "100",
        "SYS_UID_MAX": "999",
        "UID_MIN": "1000",
        "UID_MAX": "60000",
        "DEFAULT_HOME": "no",
    }, ("A.5.17", "A.8.5"), "dev-sec login.defs values; yescrypt hashes."),
    pwquality=S({"minlen": "14", "dcredit": "-1", "ucredit": "-1", "lcredit": "-1", "ocredit": "-1",
                 "minclass": "4", "maxrepeat": "3", "enforce_for_root": ""},
                ("A.5.17",), "Password quality for any local password that exists."),
    faillock=S({"deny": "5", "unlock_time": "900", "fail_interval": "900", "audit": ""},
               ("A.8.5",), "Lockout after 5 failures for 15 minutes."),
    umask=S("027", ("A.8.3",), "New files are not world-readable."),
    shell_timeout_seconds=S(900, ("A.7.7", "A.8.5"),
                            "An idle login shell ends after 15 minutes: TMOUT, read-only, from /etc/profile.d "
                            "(CIS Debian 12 5.4.3.2, Lynis SHLL-6220); non-interactive commands (pyinfra) are untouched."),
    core_dumps=S(False, ("A.8.12", "A.8.9"),
                 "No process leaves a core dump (its memory, secrets included) on disk: hard and soft core limits 0, "
                 "systemd-coredump storing nothing, login shells' `ulimit -c 0` (CIS 1.5.x, Lynis KRNL-5820)."),
    su_restricted_group=S("sudo", ("A.8.2",), "Only the sudo group may use su."),
)

SUDO = Section(
    "sudo",
    use_pty=S(True, ("A.8.2", "A.8.15"),
              "Commands run in their own pseudo-terminal: a process left behind cannot inject into the admin's "
              "terminal (CIS 5.2.2)."),
    logfile=S("/var/log/sudo.log", ("A.8.15", "A.8.2"), "Every sudo use logged in its own file (CIS 5.2.3), "
              "watched by auditd."),
    dropin=S("/etc/sudoers.d/50-harden", ("A.8.2",),
             "The deploy's drop-in, installed only after `visudo -cf` accepted it: a bad file never lands."),
)

KERNEL_MODULES = Section(
    "kernel_modules",
    blacklist=S(("cramfs", "freevxfs", "jffs2", "hfs", "hfsplus", "squashfs", "udf", "vfat",
                 "dccp", "sctp", "rds", "tipc", "usb-storage", "firewire-core", "thunderbolt"),
                ("A.8.9", "A.7.10", "A.8.12"),
                "dev-sec's filesystem blacklist, rare network protocols, and removable storage (Lynis USB-1000)."),
    boot_exceptions=S({"vfat": ("/boot/efi",)}, ("A.8.9", "A.7.10"),
                      "Never blacklisted while the node's fstab mounts a filesystem of that type at one of these "
                      "paths: a UEFI node mounts its EFI system partition (vfat) at every boot and would stop in "
                      "emergency mode without it."),
)

FILESYSTEM = Section(
    "filesystem",
    mount_options=S({"/tmp": "nodev,nosuid,noexec", "/dev/shm": "nodev,nosuid,noexec", "/var/tmp": "nodev,nosuid,noexec"},
                    ("A.8.9",), "Temporary trees hold no devices, setuid binaries or executables."),
    proc_hidepid=S("invisible", ("A.8.3",), "Users see only their own processes."),
    permissions=S({
        "/etc/passwd": "0644", "/etc/group": "0644", "/etc/shadow": "0640", "/etc/gshadow": "0640",
        "/etc/ssh/sshd_config": "0600", "/etc/crontab": "0600", "/etc/cron.d": "0700",
        "/etc/cron.daily": "0700", "/etc/cron.hourly": "0700", "/etc/cron.weekly": "0700",
        "/etc/cron.monthly": "0700", "/boot/grub/grub.cfg": "0600", "/etc/sudoers": "0440",
    }, ("A.8.3", "A.8.9"), "dev-sec's file permissions plus cron (Lynis)."),
    legacy_packages=S(("telnet", "telnetd", "inetutils-telnetd", "rsh-client", "rsh-server", "nis", "talk", "talkd",
                       "xinetd", "tftp", "tftpd", "atftpd", "prelink", "ypbind"),
                      ("A.8.19", "A.8.20"), "Clear-text and obsolete services are removed."),
)

BOOTLOADER = Section(
    "bootloader",
    superuser=S("grubadmin", ("A.8.2", "A.8.5", "A.8.9"),
                "GRUB's one superuser: editing a boot entry at the console (its kernel command line: `init=/bin/sh`, "
                "`audit=0`), the recovery entries and GRUB's shell ask for this user's password (CIS 1.4.1)."),
    password_min_iterations=S(10000, ("A.8.5",),
                              "The password is stored only as grub-mkpasswd-pbkdf2's PBKDF2-SHA512 hash, with at least "
                              "its default iterations; the hash comes from a 0600 file on the control node that host "
                              "data grub_password_hash_file names, never from the inventory text."),
    unrestricted_default=S(True, ("A.5.30", "A.8.9"),
                           "The OS's own boot entries carry --unrestricted: an unattended reboot boots without a "
                           "password, so the node comes back on its own; editing them still needs the superuser."),
)

USB = Section(
    "usb",
    package=S("usbguard", ("A.7.10", "A.8.1", "A.8.12"),
              "USBGuard (Debian's package) authorises each USB device against an allow-list, at boot and when plugged "
              "in: a storage stick, a network adapter or a keyboard-emulating gadget with a storage or network "
              "interface is blocked (Lynis USB-3000)."),
    allow_rules=S(("allow with-interface equals { 09:00:* }", "allow with-interface equals { 03:*:* }"),
                  ("A.7.10", "A.8.1", "A.5.30"),
                  "Allowed: hubs, and devices whose every interface is HID (keyboards and mice: the console stays "
                  "usable for break-glass). Anything else is blocked, present at boot or inserted later; a node that "
                  "needs another device declares its rule in host data usbguard_allow_rules."),
    daemon=S((("RuleFile", "/etc/usbguard/rules.conf"), ("ImplicitPolicyTarget", "block"),
              ("PresentDevicePolicy", "apply-policy"), ("PresentControllerPolicy", "apply-policy"),
              ("InsertedDevicePolicy", "apply-policy"), ("AuthorizedDefault", "none"),
              ("RestoreControllerDeviceState", "false"), ("DeviceManagerBackend", "uevent"),
              ("IPCAllowedUsers", "root"), ("IPCAllowedGroups", ""), ("DeviceRulesWithPort", "false"),
              ("AuditBackend", "LinuxAudit"), ("HidePII", "false")),
             ("A.7.10", "A.8.1", "A.8.15"),
             "usbguard-daemon.conf: what no rule allows is blocked, controllers and devices present at boot are judged "
             "by the rules too, the kernel authorises nothing before the daemon decides, only root talks to the "
             "daemon, and its decisions go to the Linux audit log."),
)

# CIS Debian Linux 12 Benchmark v1.1.0, section 6.2.3 (audit rules): each syscall rule for both ABIs (b64 and b32:
# a 32-bit binary reaches the kernel through the b32 table and escapes a b64-only rule), watches on the real files
# (Debian installs dockerd in /usr/sbin; the module tools are symlinks to /usr/bin/kmod, so kmod is what runs).
# The CIS numbers in this module were checked against ansible-lockdown's DEBIAN12-CIS role and its goss audit
# (both follow v1.1.0). Not covered here: 6.2.3.6 names every setuid/setgid program (these rules name a fixed set),
# 6.2.3.16/6.2.3.17 (setfacl, chacl), and 6.2.2.4's space_left_action (below).
_CIS_USER = "-F auid>=1000 -F auid!=unset"
_SYSCALL_RULES = (
    ("-C euid!=uid -F auid!=unset -S execve", "user_emulation"),
    ("-S adjtimex,settimeofday,clock_settime", "time-change"),
    ("-S sethostname,setdomainname", "system-locale"),
    (f"-S creat,open,openat,truncate,ftruncate -F exit=-EACCES {_CIS_USER}", "access"),
    (f"-S creat,open,openat,truncate,ftruncate -F exit=-EPERM {_CIS_USER}", "access"),
    (f"-S chmod,fchmod,fchmodat {_CIS_USER}", "perm_mod"),
    (f"-S chown,fchown,lchown,fchownat {_CIS_USER}", "perm_mod"),
    (f"-S setxattr,lsetxattr,fsetxattr,removexattr,lremovexattr,fremovexattr {_CIS_USER}", "perm_mod"),
    (f"-S mount {_CIS_USER}", "mounts"),
    (f"-S unlink,unlinkat,rename,renameat {_CIS_USER}", "delete"),
    (f"-S init_module,finit_module,delete_module {_CIS_USER}", "kernel_modules"),
)

AUDITD = Section(
    "auditd",
    rules=S((
        *(f"-a always,exit -F arch={arch} {body} -k {key}" for body, key in _SYSCALL_RULES for arch in ("b64", "b32")),
        "-w /etc/sudoers -p wa -k scope",
        "-w /etc/sudoers.d -p wa -k scope",
        "-w /var/log/sudo.log -p wa -k sudo_log_file",
        "-w /etc/localtime -p wa -k time-change",
        "-w /etc/issue -p wa -k system-locale",
        "-w /etc/issue.net -p wa -k system-locale",
        "-w /etc/hosts -p wa -k system-locale",
        "-w /etc/hostname -p wa -k system-locale",
        "-w /etc/networks -p wa -k system-locale",
        "-w /etc/network -p wa -k system-locale",
        "-w /etc/passwd -p wa -k identity",
        "-w /etc/group -p wa -k identity",
        "-w /etc/shadow -p wa -k identity",
        "-w /etc/gshadow -p wa -k identity",
        "-w /etc/security/opasswd -p wa -k identity",
        "-w /etc/nsswitch.conf -p wa -k identity",
        "-w /etc/pam.conf -p wa -k identity",
        "-w /etc/pam.d -p wa -k identity",
        "-w /var/run/utmp -p wa -k session",
        "-w /var/log/wtmp -p wa -k session",
        "-w /var/log/btmp -p wa -k session",
        "-w /var/log/lastlog -p wa -k logins",
        "-w /var/run/faillock -p wa -k logins",
        "-w /etc/apparmor -p wa -k MAC-policy",
        "-w /etc/apparmor.d -p wa -k MAC-policy",
        "-w /etc/ssh/sshd_config -p wa -k sshd",
        "-w /etc/ssh/sshd_config.d -p wa -k sshd",
        "-w /usr/sbin/dockerd -p x -k docker",
        "-w /etc/docker -p wa -k docker",
        "-w /var/lib/docker -p wa -k docker",
        "-w /etc/nftables.conf -p wa -k firewall",
        f"-a always,exit -F path=/usr/bin/kmod -F perm=x {_CIS_USER} -k kernel_modules",
        *(f"-a always,exit -F path={path} -F perm=x {_CIS_USER} -k {key}" for path, key in (
            ("/usr/bin/chcon", "perm_chng"), ("/usr/sbin/usermod", "usermod"),
            ("/usr/bin/sudo", "privileged"), ("/usr/bin/su", "privileged"), ("/usr/bin/passwd", "privileged"),
            ("/usr/bin/chsh", "privileged"), ("/usr/bin/newgrp", "privileged"), ("/usr/bin/mount", "privileged"),
            ("/usr/bin/umount", "privileged"))),
    ), ("A.8.15", "A.8.16", "A.8.17", "A.8.2"),
        "CIS Debian 12 audit rules: identities, privileges, sudo, sshd, docker, time, network identity, mounts, "
        "permission changes, deletions, failed accesses and kernel modules, for both syscall ABIs."),
    immutable=S(True, ("A.8.15", "A.5.28"),
                "`-e 2` is the last rule: once loaded, no one (root included) can change or stop auditing until the "
                "next boot (CIS 6.2.3.20); a changed rule set needs a reboot, which the deploy says."),
    kernel_cmdline=S(("audit=1", "audit_backlog_limit=8192"), ("A.8.15",),
                     "Processes started before auditd are audited and the early backlog does not overflow "
                     "(CIS 6.2.1.3, 6.2.1.4); written through /etc/default/grub.d, checked in /proc/cmdline."),
    max_log_file_mb=S(50, ("A.8.15",), "auditd log file size before the next file is started."),
    max_log_file_action=S("keep_logs", ("A.8.15", "A.5.28"),
                          "Full log files are kept, never rotated away (CIS 6.2.2.2): auditd deletes no evidence. "
                          "Retention: kept on the node for at least JOURNALD.max_retention_sec (one year); the space "
                          "actions below stop the node before evidence is lost."),
    space_left_action=S("syslog", ("A.8.16",),
                        "Operators are told (journal/monitoring) when audit space runs low; auditd refuses \"email\" "
                        "on a node without a local MTA. Below CIS 6.2.2.4, which asks for email, exec, single or halt "
                        "here."),
    admin_space_left_action=S("single", ("A.8.15", "A.8.16"),
                              "Audit space nearly exhausted: single-user mode rather than unaudited operation "
                              "(CIS 6.2.2.4); README: break-glass over the console."),
    disk_full_action=S("single", ("A.8.15",), "Audit disk full: single-user mode (CIS 6.2.2.3)."),
    disk_error_action=S("syslog", ("A.8.15", "A.8.16"), "Audit disk error: reported (CIS 6.2.2.3 allows syslog)."),
)

FIREWALL = Section(
    "firewall",
    table=S("harden", ("A.8.20",), "Our own nftables table: Docker's iptables-nft tables are left alone."),
    input_policy=S("drop", ("A.8.20", "A.8.22"), "Inbound is dropped unless a rule allows it."),
    ssh_interfaces=S(("tailscale0",), ("A.8.20", "A.8.22"), "SSH is reachable only over Tailscale (seed 000)."),
    service_ports=S({}, ("A.8.20", "A.8.22"), "Service ports per interface, declared per host in the inventory."),
    icmp_allowed=S(True, ("A.8.20",), "ICMP (rate limited) keeps path-MTU discovery working."),
    forward_policy=S("drop", ("A.8.20", "A.8.22"),
                     "Forwarded traffic is dropped unless a rule below allows it. Our forward chain is a base chain "
                     "of its own: its drop is final whatever Docker's FORWARD and DOCKER-USER chains accept, so "
                     "Docker publishing a port on every address does not open it."),
    container_interfaces=S(("docker0", "br-*"), ("A.8.20",),
                           "Docker's bridges: what containers start is forwarded (their outbound traffic, and traffic "
                           "between containers of one network, which Docker's own isolation rules still confine)."),
    published_interfaces=S(("tailscale0",), ("A.8.20", "A.8.22"),
                           "Containers' published ports (connections Docker's DNAT rewrote) are forwarded only when "
                           "they arrive on these interfaces: a LAN neighbour reaching the node's own address, or "
                           "routing to a container's address through the node, is dropped (seed 000). Host data "
                           "firewall_published_interfaces overrides it per node."),
)

JOURNALD = Section(
    "journald",
    storage=S("persistent", ("A.8.15",), "Logs survive a reboot."),
    system_max_use=S("1G", ("A.8.15", "A.8.6"), "Bounded on disk."),
    max_retention_sec=S("1year", ("A.8.15", "A.5.28"), "Kept as long as the logging policy says."),
    compress=S("yes", ("A.8.15",), "Compressed."),
    forward_to_syslog=S("no", ("A.8.15",), "One store."),
    upload_package=S("systemd-journal-remote", ("A.8.15",),
                     "Debian's package of systemd-journal-upload (CIS 6.1.2.1.1); its receiver stays off on the node."),
    upload_required=S(True, ("A.8.15", "A.5.28", "A.8.16"),
                      "Every journal entry is sent off the node by systemd-journal-upload (CIS 6.1.2.1.3) to the "
                      "collector the inventory names (host data journal_upload_url, https only): whoever wipes the "
                      "node's logs does not wipe the copy. A node without a declared collector is refused."),
    upload_tls_paths=S({"key": "/etc/systemd/journal-upload-tls/client.key",
                        "certificate": "/etc/systemd/journal-upload-tls/client.crt",
                        "trusted_ca": "/etc/systemd/journal-upload-tls/collector-ca.crt"}, ("A.8.24", "A.8.5"),
                       "Mutual TLS (CIS 6.1.2.1.2): the node presents its client certificate and checks the "
                       "collector's against this CA, never `all`. Host data journal_upload_tls names the operator's "
                       "files for each key, copied here (directory 0750 and key 0640, group systemd-journal: the "
                       "uploader runs as a dynamic user in that group)."),
    upload_dropin=S("/etc/systemd/journal-upload.conf.d/50-harden.conf", ("A.8.15",),
                    "Where the deploy writes the collector's URL and the TLS files."),
    upload_restart_sec=S(30, ("A.8.15", "A.5.28"),
                         "A collector outage does not end shipping: the uploader restarts every 30 s until it "
                         "connects, then sends from its saved cursor."),
    receiver_units=S(("systemd-journal-remote.socket", "systemd-journal-remote.service"), ("A.8.20",),
                     "The receiver is not in use on the node (CIS 6.1.2.1.4): nodes send, the collector receives."),
    collector_min_retention_days=S(365, ("A.8.15", "A.5.28"),
                                   "The collector on the control node keeps every shipped entry at least this long: "
                                   "systemd-journal-remote (Debian 12, systemd 252) deletes nothing itself, so its "
                                   "one deletion is the collector's vacuum unit (journalctl --vacuum-time), whose age "
                                   "the audit reads; a collector with no vacuum unit states no retention (unknown)."),
)

DOCKER_DAEMON = Section(
    "docker_daemon",
    config=S({
        "icc": False,
        "live-restore": True,
        "no-new-privileges": True,
        "userland-proxy": False,
        "log-driver": "json-file",
        "log-opts": {"max-size": "10m", "max-file": "5"},
        "default-ulimits": {"nofile": {"Name": "nofile", "Soft": 65536, "Hard": 65536}},
    }, ("A.8.9", "A.8.22", "A.8.15", "A.8.6"),
        "docker-bench section 2: no inter-container traffic by default, no-new-privileges, bounded logs. The pids "
        "limit is set per container (CONTAINER.pids_limit): Debian 12's dockerd 20.10 rejects a daemon-wide one."),
    userns_remap=S("default", ("A.8.2", "A.8.3", "A.8.9"),
                   "docker-bench 2.8 (user namespace support): containers run in a user namespace of their own, so a "
                   "container's root, or its service uid, is an unprivileged subordinate uid on the host "
                   "(dockerd's `dockremap` user and its /etc/subuid and /etc/subgid ranges); a process that escapes "
                   "its container owns nothing on the host. Files the host hands a container are owned by the "
                   "mapped ids (components.engine_ids.host_ids)."),
)


PACKAGES = Section(
    "packages",
    required=S(("auditd", "nftables", "unattended-upgrades", "systemd-timesyncd", "libpam-pwquality",
                "cryptsetup", "apt-listchanges", "sudo"),
               ("A.8.8", "A.8.15", "A.8.17", "A.8.20"), "What the baseline needs on the node."),
    integrity_tools=S(("debsums", "apt-show-versions", "needrestart", "acct", "sysstat", "libpam-tmpdir", "aide",
                       "rkhunter", "lynis"),
                      ("A.8.7", "A.8.8", "A.8.16", "A.8.34"),
                      "Package checksums, pending restarts, process accounting, file integrity, rootkit scan, "
                      "and Lynis itself for the audit (Lynis DEB-0280, FINT-4350, HRDN-7230, ACCT-9622)."),
    unattended_origins=S(("origin=Debian,codename=${distro_codename}-security,label=Debian-Security",),
                         ("A.8.8",), "Security updates install themselves daily."),
    security_suite=S("{codename}-security", ("A.8.8",),
                     "The node's apt sources include Debian's security suite, or unattended-upgrades has no security "
                     "update to install (Lynis PKGS-7388)."),
)

TIME = Section(
    "time",
    service=S("systemd-timesyncd", ("A.8.17",), "Clocks agree, so log timestamps can be correlated."),
    ntp_servers=S(("time.cloudflare.com", "time.google.com"), ("A.8.17",), "Two independent sources."),
)

LUKS = Section(
    "luks",
    required_for=S(("postgres", "qdrant", "swap"), ("A.8.24", "A.7.10", "A.7.9"),
                   "Data volumes and swap of a physical node must sit on dm-crypt (seed 000 SEC-06)."),
    luks_version=S(2, ("A.8.24",), "LUKS2 headers."),
    allowed_ciphers=S(("aes-xts-plain64",), ("A.8.24",), "XTS-AES."),
    min_key_bits=S(512, ("A.8.24",), "AES-256 in XTS mode uses a 512-bit key."),
    data_paths=S({"postgres": "/srv/data/postgres", "qdrant": "/srv/data/qdrant"}, ("A.8.24",),
                 "Where Node1 keeps the database volumes."),
    network_unlock=S("tang", ("A.8.24", "A.7.10", "A.7.9"),
                     "The data volume opens at boot through clevis bound to a tang server on the control node (host "
                     "data tang_url, tang_thp), so no key is stored on the node: a stolen disk or node away from the "
                     "network stays locked. Exactly one binding, to the pinned server; tang unreachable leaves the "
                     "data locked (break-glass: the LUKS passphrase kept offline)."),
    tang_thumbprint_hash=S("S256", ("A.8.24", "A.8.21"),
                           "The tang signing key is pinned by its SHA-256 JWK thumbprint (RFC 7638, as tang-show-keys "
                           "prints it): clevis binds only to an advertisement that key signed, never trust on first use."),
)
