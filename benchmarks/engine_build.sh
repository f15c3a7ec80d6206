#!/usr/bin/env bash
# Measure scripts/engine.sh: cold build (empty Go build cache) vs warm rebuild.
#
#   benchmarks/engine_build.sh [WORKDIR]
#
# Copies scripts/ into WORKDIR/repo (default: a new temp dir) so the project's
# own .tools/ is untouched, then times, with GOCACHE=WORKDIR/gocache:
#   1. cold:   engine.sh --force with an empty GOCACHE
#   2. warm:   engine.sh --force again (same GOCACHE: everything recompiled
#              from the cache, binaries relinked, plugins reinstalled)
#   3. no-op:  engine.sh (every component already built: skipped)
# The module cache (GOMODCACHE) is the default one and is expected to hold the
# modules already (downloads are not part of the figures; run engine.sh once
# first). Prints a Markdown table row set at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="$(pwd)"
WORK="${1:-$(mktemp -d)}"
mkdir -p "$WORK/repo"
rm -rf "$WORK/repo/scripts" "$WORK/repo/.tools" "$WORK/gocache"
cp -R "$SRC/scripts" "$WORK/repo/scripts"
export GOCACHE="$WORK/gocache"
mkdir -p "$GOCACHE"

run() { # LABEL ARGS...: prints "LABEL SECONDS MEAN_LOAD1"
    local label="$1"
    shift
    local start end sampler
    # The machine is shared: sample the 1-minute load average every 5 s.
    (while :; do cut -d' ' -f1 /proc/loadavg; sleep 5; done) >"$WORK/$label.load" &
    sampler=$!
    start=$(date +%s.%N)
    "$WORK/repo/scripts/engine.sh" "$@" >"$WORK/$label.log" 2>&1
    end=$(date +%s.%N)
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    printf '%s %.1f %s\n' "$label" "$(echo "$end - $start" | bc)" \
        "$(awk '{s+=$1; n++} END {printf "%.1f", n ? s/n : 0}' "$WORK/$label.load")"
}

{
    run cold --force
    run warm --force
    run noop
} | tee "$WORK/times.txt"
echo "cores: $(nproc); load after: $(cut -d' ' -f1-3 /proc/loadavg); go: $(go env GOVERSION)"
awk '{t[$1]=$2; l[$1]=$3} END {
    printf "| run | seconds | mean load (2 cores) |\n|---|---|---|\n"
    printf "| cold (empty GOCACHE) | %s | %s |\n| warm rebuild (--force) | %s | %s |\n| no-op run | %s | %s |\n", t["cold"], l["cold"], t["warm"], l["warm"], t["noop"], l["noop"]
    printf "\ncold / warm = %.1fx, cold / no-op = %.0fx\n", t["cold"]/t["warm"], t["cold"]/t["noop"]}' "$WORK/times.txt"
echo "logs: $WORK/*.log"
