"""Updates, time, logs, Docker daemon: the services every node runs, configured from the baseline."""

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import systemd

from baseline import TIME
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


@deploy("Docker daemon (baseline.DOCKER_DAEMON)")
def harden_docker_daemon():
    if not host.get_fact(CommandPresent, program="dockerd"):
        harden.not_applicable(name="docker daemon", part="docker daemon", reason="dockerd is not installed")
        return
    daemon = harden.text_file(name="daemon.json", path="/etc/docker/daemon.json", text=desired.docker_daemon_json())
    systemd.service(name="docker restarted on change", service="docker", restarted=True, _if=daemon.did_change)
