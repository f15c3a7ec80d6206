"""Updates, time, logs (kept and shipped off the node), Docker daemon, USB devices by allow-list: the services every
node runs, from the baseline."""

from pyinfra import host
from pyinfra.api import DeployError, deploy
from pyinfra.operations import apt, files, systemd

from baseline import JOURNALD, TIME, USB, BaselineViolation
from hosts import desired
from hosts.facts.node import CommandPresent
from hosts.operations import harden


@deploy("Security updates (baseline.PACKAGES)")
def harden_updates():
    harden.text_file(name="unattended-upgrades: security origin, daily", path="/etc/apt/apt.conf.d/52harden-upgrades",
                     text=desired.unattended_upgrades_text())


@deploy("Time sync and persistent journal (baseline.TIME, baseline.JOURNALD)")
def harden_time_and_logs():
    timesyncd = harden.text_file(name="timesyncd servers", path=desired.TIMESYNCD_DROPIN_PATH,
                                 text=desired.timesyncd_conf_text())
    systemd.service(name=f"{TIME.service} running", service=TIME.service, running=True, enabled=True)
    systemd.service(name=f"{TIME.service} restarted on change", service=TIME.service, restarted=True,
                    _if=timesyncd.did_change)
    journald = harden.text_file(name="journald persistent with retention",
                                path="/etc/systemd/journald.conf.d/harden.conf", text=desired.journald_conf_text())
    systemd.service(name="journald restarted on change", service="systemd-journald", restarted=True,
                    _if=journald.did_change)


@deploy("Journal shipped to the collector over mutual TLS (baseline.JOURNALD)")
def harden_journal_upload():
    url = host.data.get("journal_upload_url")
    tls = host.data.get("journal_upload_tls") or {}
    missing = sorted(role for role in JOURNALD.upload_tls_paths if not tls.get(role))
    if JOURNALD.upload_required and (not url or missing):
        raise DeployError(f"{host.name}: host data journal_upload_url (the collector, https://HOST:PORT) and "
                          f"journal_upload_tls (local files for {', '.join(sorted(JOURNALD.upload_tls_paths))}) must "
                          f"be declared; missing: {'journal_upload_url' if not url else ', '.join(missing)}. The "
                          "journal would stay on the node [ISO 27001:2022 A.8.15, A.5.28]")
    try:
        conf_text = desired.journal_upload_text(url)
    except BaselineViolation as error:
        raise DeployError(f"{host.name}: {error}") from None
    apt.packages(name=f"{JOURNALD.upload_package} present", packages=[JOURNALD.upload_package])
    for unit in JOURNALD.receiver_units:
        systemd.service(name=f"{unit} not in use on the node", service=unit, running=False, enabled=False)
    directory = JOURNALD.upload_tls_paths["key"].rsplit("/", 1)[0]
    files.directory(name="journal upload TLS directory", path=directory, user="root", group="systemd-journal",
                    mode="0750")
    changed = [files.put(name=f"journal upload {role}", src=tls[role], dest=path, user="root",
                         group="systemd-journal", mode="0640" if role == "key" else "0644")
               for role, path in sorted(JOURNALD.upload_tls_paths.items())]
    changed.append(harden.text_file(name="journal upload: collector and TLS files", path=JOURNALD.upload_dropin,
                                    text=conf_text))
    unit = harden.text_file(name="journal upload restarts until the collector answers",
                            path=desired.UPLOAD_SERVICE_DROPIN, text=desired.journal_upload_service_text())
    systemd.daemon_reload(name="systemd reloaded (uploader drop-in changed)", _if=unit.did_change)
    systemd.service(name="systemd-journal-upload running", service="systemd-journal-upload", running=True,
                    enabled=True)
    systemd.service(name="systemd-journal-upload restarted on change", service="systemd-journal-upload",
                    restarted=True, _if=lambda: unit.did_change() or any(op.did_change() for op in changed))


@deploy("Docker daemon (baseline.DOCKER_DAEMON)")
def harden_docker_daemon():
    if not host.get_fact(CommandPresent, program="dockerd"):
        harden.not_applicable(name="docker daemon", part="docker daemon", reason="dockerd is not installed")
        return
    daemon = harden.text_file(name="daemon.json", path="/etc/docker/daemon.json", text=desired.docker_daemon_json())
    systemd.service(name="docker restarted on change", service="docker", restarted=True, _if=daemon.did_change)


@deploy("USB devices by allow-list (baseline.USB, USBGuard)")
def harden_usb():
    """The rule file and the daemon's settings land before the package: its first start (at install) already blocks
    what the allow-list does not name, and apt keeps our files over the package's (--force-confold)."""
    try:
        rules_text = desired.usbguard_rules_text(host.data)
    except BaselineViolation as error:
        raise DeployError(f"{host.name}: refused: {error}") from None
    files.directory(name="USBGuard directory", path=desired.USBGUARD_CONF.rsplit("/", 1)[0], user="root",
                    group="root", mode="0755")
    rules = harden.text_file(name="USBGuard rules: hubs, all-HID devices and the host's declared devices",
                             path=desired.USBGUARD_RULES, text=rules_text, mode="0600")
    daemon = harden.text_file(name="USBGuard daemon: what no rule allows is blocked, present or inserted",
                              path=desired.USBGUARD_CONF, text=desired.usbguard_daemon_text(), mode="0600")
    apt.packages(name=f"{USB.package} present", packages=[USB.package])
    systemd.service(name="usbguard running", service="usbguard", running=True, enabled=True)
    systemd.service(name="usbguard restarted on change", service="usbguard", restarted=True,
                    _if=lambda: rules.did_change() or daemon.did_change())
