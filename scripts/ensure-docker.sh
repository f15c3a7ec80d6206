#!/usr/bin/env bash
# Make sure a Docker engine runs on this host, configured from baseline.DOCKER_DAEMON.
#
# Idempotent: when `docker info` already answers, nothing is started; the script only warns if
# /etc/docker/daemon.json differs from the baseline. Otherwise it installs Debian's docker.io if
# absent, writes /etc/docker/daemon.json from the baseline, starts dockerd in the background
# (log: .state/docker/dockerd.log) and waits until the engine answers.
#
# A baseline key this dockerd does not accept is never dropped silently: it is named on stderr with
# its ISO 27001:2022 controls, written to .state/docker/rejected-keys.json for the reports, and the
# engine is started without it.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '[docker] %s\n' "$*"; }
warn() { printf '[docker] WARNING: %s\n' "$*" >&2; }

state_dir=.state/docker
log_file=$state_dir/dockerd.log
daemon_json=/etc/docker/daemon.json
wait_seconds=${DOCKER_START_TIMEOUT:-60}
mkdir -p "$state_dir"

python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python

# This host's hard limit on open files: dockerd cannot hand containers more (raising it needs CAP_SYS_RESOURCE).
nofile_cap=$(bash -c "ulimit -Hn $("$python" -c 'import sys; sys.path.insert(0, "."); from baseline import DOCKER_DAEMON; print(DOCKER_DAEMON.config["default-ulimits"]["nofile"]["Hard"])') 2>/dev/null; ulimit -Hn")

# The baseline's daemon config as canonical JSON, nofile capped to this host's limit; args: keys to leave out.
render_baseline() {
    NOFILE_CAP=$nofile_cap "$python" - "$@" <<'EOF'
import json, os, sys
sys.path.insert(0, ".")
from hosts.desired import docker_daemon_config
left_out = set(sys.argv[1:])
config = {k: v for k, v in docker_daemon_config().items() if k not in left_out}
cap = os.environ["NOFILE_CAP"]
nofile = config.get("default-ulimits", {}).get("nofile")
if nofile and cap != "unlimited" and int(cap) < nofile["Hard"]:
    if not os.environ.get("QUIET"):
        print(f"[docker] WARNING: default-ulimits nofile {nofile['Hard']} exceeds this host's hard limit {cap}; "
              f"containers get {cap} (a lower ceiling, never a higher one)", file=sys.stderr)
    config["default-ulimits"] = {**config["default-ulimits"],
                                 "nofile": {**nofile, "Soft": min(nofile["Soft"], int(cap)), "Hard": int(cap)}}
print(json.dumps(config, indent=2, sort_keys=True))
EOF
}

same_json() {
    "$python" -c 'import json, sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$1" "$2"
}

if docker info >/dev/null 2>&1; then
    say "engine already running: $(docker version --format 'server {{.Server.Version}}' 2>/dev/null)"
    render_baseline > "$state_dir/baseline-daemon.json"
    if [ ! -f "$daemon_json" ]; then
        warn "$daemon_json is absent: the running engine does not use the baseline daemon config (ISO 27001:2022 A.8.9)"
    elif ! same_json "$daemon_json" "$state_dir/baseline-daemon.json"; then
        if [ -f "$state_dir/rejected-keys.json" ] && \
           same_json "$daemon_json" <(QUIET=1 render_baseline $("$python" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))))' "$state_dir/rejected-keys.json")); then
            warn "running with the baseline minus keys this dockerd rejects: $(cat "$state_dir/rejected-keys.json")"
        else
            warn "$daemon_json differs from baseline.DOCKER_DAEMON (ISO 27001:2022 A.8.9 Configuration management):"
            diff <("$python" -m json.tool --sort-keys "$daemon_json") "$state_dir/baseline-daemon.json" >&2 || true
        fi
    fi
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    say "installing Debian's docker.io"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }
fi

# Keys this dockerd refuses, from `dockerd --validate` (Docker >= 23) or from a start attempt's log.
rejected_keys() {
    sed -n 's/.*the following directives don.t match any configuration option: //p' "$1" | tr -d ',' | head -1
}

write_config() {
    mkdir -p /etc/docker
    local tmp
    tmp=$(mktemp /etc/docker/daemon.json.XXXXXX)
    render_baseline "$@" > "$tmp"
    chmod 0644 "$tmp"
    mv "$tmp" "$daemon_json"
}

report_rejected() {
    local keys=$1
    "$python" - "$keys" > "$state_dir/rejected-keys.json" <<'EOF'
import json, sys
sys.path.insert(0, ".")
from baseline import DOCKER_DAEMON
from hosts.desired import docker_daemon_config
setting = lambda key: "userns_remap" if key == "userns-remap" else "config"
print(json.dumps({key: {"value": docker_daemon_config()[key], "controls": list(DOCKER_DAEMON.controls(setting(key)))}
                  for key in sys.argv[1].split()}))
EOF
    warn "this dockerd ($(dockerd --version)) does not accept baseline key(s): $keys"
    warn "  baseline.DOCKER_DAEMON, ISO 27001:2022 $("$python" -c 'import json, sys; sys.path.insert(0, "."); from baseline import describe; print(describe(sorted({c for v in json.load(open(sys.argv[1])).values() for c in v["controls"]})))' "$state_dir/rejected-keys.json")"
    warn "  the engine starts without them; recorded in $state_dir/rejected-keys.json for the reports"
}

start_dockerd() {
    say "starting dockerd (log: $log_file)"
    : > "$log_file"
    setsid nohup dockerd --config-file "$daemon_json" >>"$log_file" 2>&1 < /dev/null &
    echo $! > "$state_dir/dockerd.pid"
}

# Waits for the engine; returns 1 as soon as dockerd has exited.
wait_for_engine() {
    local pid waited=0
    pid=$(cat "$state_dir/dockerd.pid")
    until docker info >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || return 1
        [ "$waited" -ge "$wait_seconds" ] && { warn "engine did not answer within ${wait_seconds}s; see $log_file"; exit 1; }
        [ $((waited % 5)) -eq 0 ] && say "waiting for the engine (${waited}s)"
        sleep 1
        waited=$((waited + 1))
    done
}

write_config
left_out=""
if dockerd --help 2>&1 | grep -q -- '--validate'; then
    if ! dockerd --validate --config-file "$daemon_json" > "$state_dir/validate.log" 2>&1; then
        left_out=$(rejected_keys "$state_dir/validate.log")
        [ -n "$left_out" ] || { cat "$state_dir/validate.log" >&2; exit 1; }
    fi
fi
if [ -z "$left_out" ]; then
    start_dockerd
    if ! wait_for_engine; then
        left_out=$(rejected_keys "$log_file")
        [ -n "$left_out" ] || { warn "dockerd exited; last lines of $log_file:"; tail -20 "$log_file" >&2; exit 1; }
    fi
fi
if [ -n "$left_out" ]; then
    report_rejected "$left_out"
    # shellcheck disable=SC2086  # one argument per rejected key
    QUIET=1 write_config $left_out
    start_dockerd
    wait_for_engine || { warn "dockerd exited; last lines of $log_file:"; tail -20 "$log_file" >&2; exit 1; }
else
    rm -f "$state_dir/rejected-keys.json"
fi
say "engine ready: $(docker version --format 'server {{.Server.Version}}'), $(docker info --format 'storage {{.Driver}}, cgroup v{{.CgroupVersion}}')"
