#!/usr/bin/env bash
# Rehearse what CI and a new user do: a clean clone of the committed HEAD, then `make test` in it, timed.
#
#   bash scripts/rehearse-fresh.sh            warm: this machine's Go, pip and Docker build caches are used
#   bash scripts/rehearse-fresh.sh --cold     from nothing: empty Go module and build caches, no pip cache,
#                                             images built from debootstrap under tags of their own with no
#                                             Docker build cache, and the Docker engine stopped first so that
#                                             the setup starts it (containers with a restart policy come back
#                                             when it does)
#   ... --setup-only                          `make setup` instead of `make test`: the setup alone, timed
#   ... -- ARGS                               extra arguments for pytest (make test passes them on)
#
# The clone lives in a new temporary directory (kept, with its log, for reading afterwards), with this
# checkout's ../shared linked beside it as CI has it. Uncommitted changes are not part of the rehearsal:
# CI clones the commit too. The last lines printed are the wall times of the setup steps and the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cold=0
target=test
pytest_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --cold) cold=1 ;;
        --setup-only) target=setup ;;
        --) shift; pytest_args=("$@"); break ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "rehearse-fresh.sh: unknown argument '$1' (allowed: --cold, --setup-only, -- PYTEST_ARGS)" >&2; exit 2 ;;
    esac
    shift
done
say() { printf '[rehearsal %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

[ -z "$(git status --porcelain --untracked-files=no)" ] || say "note: uncommitted changes are not rehearsed (HEAD is)"
work=$(mktemp -d "${TMPDIR:-/tmp}/rae-rehearsal.XXXXXX")
git clone --quiet --no-local "$repo" "$work/repo"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
log=$work/make-test.log
say "clone of $(git rev-parse --short HEAD) in $work/repo; log: $log"

env_args=(CI=true)
if [ "$cold" = 1 ]; then
    mkdir -p "$work/cache/go-build" "$work/cache/go-mod" "$work/cache/pip"
    env_args+=(GOCACHE="$work/cache/go-build" GOMODCACHE="$work/cache/go-mod" PIP_NO_CACHE_DIR=1
               IMAGE_NAMESPACE="rae-rehearsal-$(basename "$work" | tr -dc 'a-z0-9' | tr 'A-Z' 'a-z')" NO_CACHE=1)
    if docker info >/dev/null 2>&1; then
        say "cold: stopping the running Docker engine so that the setup starts it"
        pkill -TERM -x dockerd || true
        for _ in $(seq 60); do docker info >/dev/null 2>&1 || break; sleep 1; done
    fi
fi

started=$SECONDS
set +e
if [ "$target" = setup ]; then
    (cd "$work/repo" && env "${env_args[@]}" make setup) 2>&1 | tee "$log"
else
    (cd "$work/repo" && env "${env_args[@]}" make test ${pytest_args[@]+"${pytest_args[@]}"}) 2>&1 | tee "$log"
fi
status=${PIPESTATUS[0]}
set -e
total=$((SECONDS - started))
say "setup steps (start times):"
grep -E '^==> \[' "$log" | sed 's/^/    /' || true
say "suites: $(grep -E '^=+ .*(passed|failed|error).* in ' "$log" | tail -1 || echo 'no pytest summary')"
say "make $target exit $status after $((total / 60)) min $((total % 60)) s ($([ "$cold" = 1 ] && echo cold || echo warm))"
exit "$status"
