"""Connection data every host gets. Host keys are checked strictly: a host whose key is missing from,
or differs from, its known_hosts file is refused (pyinfra's default would add unknown keys)."""

ssh_strict_host_key_checking = "yes"
ssh_look_for_keys = False
ssh_allow_agent = False
ssh_connect_retries = 1
# pyinfra uploads files as the SSH user, then moves them with sudo. libpam-tmpdir (baseline) gives
# root a private TMPDIR the SSH user cannot write to, so uploads go through the shared /tmp.
_temp_dir = "/tmp"
