#!/usr/bin/env bash
# Provide the Pulumi engine without internet access.
#
#   scripts/engine.sh            build/install what is missing (idempotent)
#   scripts/engine.sh --force    rebuild every component
#   scripts/engine.sh --status   report what is installed; exit 1 if incomplete
#
# What it provides (pins in scripts/engine/versions.env):
#   .tools/pulumi/bin/pulumi                     Pulumi CLI (official source,
#       github.com/pulumi/pulumi/pkg/v3 cmd/pulumi) unless a pulumi >= the pin
#       is already on PATH, which is then used as is;
#   .tools/pulumi/bin/pulumi-language-python     Pulumi's official Python
#       language host, from its source in ../shared/pulumi-language-python,
#       + pulumi-language-python-exec and pulumi-resource-pulumi-python copied
#       from the sdk/v3 module;
#   provider plugins tls and random, bridged from the upstream Terraform
#       providers with pulumi-terraform-bridge, and docker (pulumi-docker's
#       provider from ../shared/pulumi-docker on kreuzwerker's upstream), all
#       installed into PULUMI_HOME (.tools/pulumi/home) with
#       `pulumi plugin install --file`. A docker plugin at the pin installed
#       otherwise (`pulumi plugin install resource docker VERSION`) is kept.
#
# Everything is built with GOTOOLCHAIN=local from the Go module proxy; the Go
# build and module caches are the defaults, so a second run is near-instant,
# and a binary that already exists at the right version is not rebuilt.
# Use it through `source scripts/pulumi-env.sh`.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"
ENGINE_DIR="scripts/engine"
TOOLS=".tools/pulumi"
BIN="$TOOLS/bin"
BUILD="$TOOLS/build"
PLUGINS="$TOOLS/plugins"
STAMPS="$TOOLS/stamps"
LOGS="$TOOLS/logs"
PROVIDERS="tls random"
# Sources the module proxy refuses, carried in shared/ beside the repository
# (RAE_SHARED_DIR overrides; a git worktree kept elsewhere finds its main checkout's).
. "$ROOT/scripts/shared-dir.sh"
SHARED_DIR="$(rae_shared_dir "$ROOT")"
SHARED_LANGHOST="$SHARED_DIR/pulumi-language-python"
SHARED_DOCKER="$SHARED_DIR/pulumi-docker"

FORCE=0
STATUS_ONLY=0
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        --status) STATUS_ONLY=1 ;;
        -h | --help)
            sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'
            exit 0
            ;;
        *)
            echo "engine.sh: unknown argument: $arg" >&2
            exit 2
            ;;
    esac
done

# shellcheck source=engine/versions.env
. "$ENGINE_DIR/versions.env"

T0=$SECONDS
log() { printf '[engine %4ss] %s\n' "$((SECONDS - T0))" "$*"; }
die() {
    printf '[engine %4ss] ERROR: %s\n' "$((SECONDS - T0))" "$*" >&2
    exit 1
}

# version_ge A B: true when version A >= version B (leading v ignored).
version_ge() {
    local a="${1#v}" b="${2#v}"
    [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | tail -n1)" = "$a" ]
}

# A pulumi already on PATH (not ours) at the pinned version or newer wins.
SYSTEM_PULUMI=""
while IFS= read -r candidate; do
    [ -n "$candidate" ] || continue
    case "$(cd "$(dirname "$candidate")" && pwd)" in
        "$ROOT/$BIN") continue ;;
    esac
    v="$("$candidate" version 2>/dev/null | head -n1 || true)"
    if [ -n "$v" ] && version_ge "$v" "$PULUMI_CLI_VERSION"; then
        SYSTEM_PULUMI="$candidate"
        SYSTEM_PULUMI_VERSION="$v"
        break
    fi
done < <(type -ap pulumi 2>/dev/null || true)

# Offline environment (PULUMI_HOME, backend, no update checks, PATH).
# shellcheck source=pulumi-env.sh
. scripts/pulumi-env.sh
if [ -n "$SYSTEM_PULUMI" ]; then
    PULUMI="$SYSTEM_PULUMI"
else
    PULUMI="$ROOT/$BIN/pulumi"
fi
export GOTOOLCHAIN=local
mkdir -p "$BIN" "$BUILD" "$PLUGINS" "$STAMPS" "$LOGS"

# stamp NAME VERSION DIR...: identity of a component (version + source hash).
stamp_of() {
    local version="$1"
    shift
    printf '%s\n' "$version"
    find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
stamp_ok() { # NAME STAMP FILE...
    local name="$1" want="$2"
    shift 2
    [ "$FORCE" -eq 0 ] || return 1
    [ -f "$STAMPS/$name" ] && [ "$(cat "$STAMPS/$name")" = "$want" ] || return 1
    local f
    for f in "$@"; do [ -x "$f" ] || return 1; done
}

# run_step LABEL LOG CMD...: run a build step in the background, print a
# heartbeat every 20 s, show the log tail on failure.
run_step() {
    local label="$1" logf="$2"
    shift 2
    local start=$SECONDS
    log "$label ..."
    "$@" >"$logf" 2>&1 &
    local pid=$! next=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if [ "$SECONDS" -ge "$next" ]; then
            log "  still $label ($((SECONDS - start))s)"
            next=$((SECONDS + 20))
        fi
    done
    if ! wait "$pid"; then
        tail -n 40 "$logf" >&2 || true
        die "$label failed after $((SECONDS - start))s (full log: $logf)"
    fi
    log "  done: $label ($((SECONDS - start))s)"
}

need_go() {
    if ! command -v go >/dev/null 2>&1; then
        die "neither a pulumi >= $PULUMI_CLI_VERSION on PATH nor Go to build one.
Install the official Pulumi CLI (https://www.pulumi.com/docs/install/) or Go >= 1.25,
then run scripts/engine.sh again."
    fi
    local gv
    gv="$(go env GOVERSION 2>/dev/null || true)"
    version_ge "${gv#go}" "1.25.11" ||
        die "Go $gv is too old (need >= 1.25.11 with GOTOOLCHAIN=local); or install the official Pulumi CLI: https://www.pulumi.com/docs/install/"
}

# ---------------------------------------------------------------- status ---
plugin_installed() { # NAME VERSION
    "$PULUMI" plugin ls --output json 2>/dev/null | python3 -c '
import json, sys
name, ver = sys.argv[1], sys.argv[2].lstrip("v")
data = json.load(sys.stdin) or []
sys.exit(0 if any(p.get("name") == name and p.get("kind") == "resource"
                  and str(p.get("version", "")).lstrip("v") == ver for p in data) else 1)
' "$1" "$2"
}

provider_version() { # NAME -> pinned version
    local var
    var="PULUMI_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')_VERSION"
    printf '%s' "${!var}"
}

if [ "$STATUS_ONLY" -eq 1 ]; then
    ok=0
    if [ -x "$PULUMI" ]; then
        log "pulumi: $PULUMI ($("$PULUMI" version))"
    else
        log "pulumi: missing"
        ok=1
    fi
    if command -v pulumi-language-python >/dev/null; then
        log "language host: $(command -v pulumi-language-python)"
    else
        log "language host: missing"
        ok=1
    fi
    for p in $PROVIDERS; do
        v="$(provider_version "$p")"
        if [ -x "$PULUMI" ] && plugin_installed "$p" "$v"; then
            log "provider $p $v: installed"
        else
            log "provider $p $v: missing"
            ok=1
        fi
    done
    if [ -x "$PULUMI" ] && plugin_installed docker "$PULUMI_DOCKER_VERSION"; then
        log "provider docker $PULUMI_DOCKER_VERSION: installed"
    else
        log "provider docker $PULUMI_DOCKER_VERSION: missing"
        ok=1
    fi
    exit "$ok"
fi

# ------------------------------------------------------------------- CLI ---
if [ -n "$SYSTEM_PULUMI" ]; then
    log "using pulumi on PATH: $SYSTEM_PULUMI ($SYSTEM_PULUMI_VERSION >= $PULUMI_CLI_VERSION)"
else
    cli_stamp="$(stamp_of "$PULUMI_CLI_VERSION" "$ENGINE_DIR/cli")"
    if stamp_ok cli "$cli_stamp" "$BIN/pulumi" &&
        [ "$("$BIN/pulumi" version 2>/dev/null)" = "v$PULUMI_CLI_VERSION" ]; then
        log "pulumi v$PULUMI_CLI_VERSION already built ($BIN/pulumi)"
    else
        need_go
        grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_CLI_VERSION\$" "$ENGINE_DIR/cli/go.mod" ||
            die "$ENGINE_DIR/cli/go.mod does not require pkg/v3 v$PULUMI_CLI_VERSION (versions.env changed?): update it with go get + go mod tidy"
        run_step "building Pulumi CLI v$PULUMI_CLI_VERSION (cold: several minutes)" "$LOGS/cli.log" \
            nice -n 10 go -C "$ENGINE_DIR/cli" build -trimpath -tags osusergo,grpcnotrace \
            -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_CLI_VERSION" \
            -o "$ROOT/$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
        got="$("$BIN/pulumi" version)"
        [ "$got" = "v$PULUMI_CLI_VERSION" ] || die "built pulumi reports $got, expected v$PULUMI_CLI_VERSION"
        printf '%s\n' "$cli_stamp" >"$STAMPS/cli"
    fi
fi

# --------------------------------------------------------- language host ---
# Pulumi's official host (sdk/python/cmd/pulumi-language-python at the CLI tag),
# from its source in ../shared/pulumi-language-python: the module proxy refuses
# that module. With a user's own pulumi, the host installed beside it is used.
SYSTEM_LANGHOST=""
if [ -n "$SYSTEM_PULUMI" ] && [ -x "$(dirname "$SYSTEM_PULUMI")/pulumi-language-python" ]; then
    SYSTEM_LANGHOST="$(dirname "$SYSTEM_PULUMI")/pulumi-language-python"
fi
if [ -n "$SYSTEM_LANGHOST" ]; then
    log "using the language host beside it: $SYSTEM_LANGHOST"
    rm -f "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-exec" "$STAMPS/langhost"
else
    [ -f "$SHARED_LANGHOST/src/main.go" ] ||
        die "Pulumi's Python language host source is missing: expected $SHARED_LANGHOST/src (shared/ beside the repository).
Install the official Pulumi CLI (https://www.pulumi.com/docs/install/), which ships its language host, or provide shared/."
    lh_stamp="$(stamp_of "$PULUMI_LANGUAGE_PYTHON_VERSION" "$SHARED_LANGHOST/src")"
    if stamp_ok langhost "$lh_stamp" "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-exec" \
        "$BIN/pulumi-resource-pulumi-python"; then
        log "pulumi-language-python v$PULUMI_LANGUAGE_PYTHON_VERSION already built"
    else
        need_go
        work="$BUILD/langhost"
        rm -rf "$work"
        mkdir -p "$work"
        cp -R "$SHARED_LANGHOST/src/." "$work/"
        chmod -R u+w "$work"
        run_step "building pulumi-language-python v$PULUMI_LANGUAGE_PYTHON_VERSION (official, from ../shared)" \
            "$LOGS/langhost.log" \
            env -C "$work" nice -n 10 go build -trimpath -tags osusergo,grpcnotrace \
            -ldflags "-w -s -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_LANGUAGE_PYTHON_VERSION" \
            -o "$ROOT/$BIN/pulumi-language-python" .
        got="$("$BIN/pulumi-language-python" -version 2>/dev/null | head -n1)"
        [ "$got" = "v$PULUMI_LANGUAGE_PYTHON_VERSION" ] ||
            die "built pulumi-language-python reports '$got', expected v$PULUMI_LANGUAGE_PYTHON_VERSION"
        # The Python-side executors ship in the sdk/v3 module zip (the module cache drops exec bits).
        sdk_dir="$(go -C "$work" list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
        [ -f "$sdk_dir/python/cmd/pulumi-language-python-exec" ] ||
            die "pulumi-language-python-exec not found in $sdk_dir"
        install -m 0755 "$sdk_dir/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
        install -m 0755 "$sdk_dir/python/dist/pulumi-resource-pulumi-python" "$BIN/pulumi-resource-pulumi-python"
        printf '%s\n' "$lh_stamp" >"$STAMPS/langhost"
    fi
fi

# ------------------------------------------------------------- providers ---
build_provider() { # NAME VERSION
    local name="$1" version="$2"
    local src="$ENGINE_DIR/providers/$name" work="$BUILD/$name"
    local out="$PLUGINS/$name-$version/pulumi-resource-$name"
    local pstamp
    pstamp="$(stamp_of "$version" "$src")"
    if stamp_ok "provider-$name" "$pstamp" "$out" && plugin_installed "$name" "$version"; then
        log "provider $name $version already built and installed"
        return 0
    fi
    need_go
    local modpath="pulumi-engine-provider-$name"
    local ldflags="-s -w -X $modpath/info.Version=$version"
    local cmd="cmd/pulumi-resource-$name"
    rm -rf "$work"
    mkdir -p "$work" "$(dirname "$out")"
    cp -R "$src/." "$work/"
    echo '{}' >"$work/$cmd/bridge-metadata.json"
    run_step "building pulumi-tfgen-$name $version" "$LOGS/tfgen-$name.log" \
        nice -n 10 go -C "$work" build -trimpath -ldflags "$ldflags" -o "$ROOT/$work/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name"
    # tfgen takes resource docs from the upstream module (its docs/ folder).
    local upstream_var upstream_mod upstream_dir
    upstream_var="TF_$(printf '%s' "$name" | tr '[:lower:]' '[:upper:]')_MODULE"
    upstream_mod="${!upstream_var%@*}"
    upstream_dir="$(go -C "$work" list -m -f '{{.Dir}}' "$upstream_mod")"
    run_step "generating $name schema.json + bridge-metadata.json" "$LOGS/schema-$name.log" \
        env -C "$work/$cmd" BRIDGE_METADATA=bridge-metadata.json PULUMI_TFGEN_UPSTREAM_DIR="$upstream_dir" \
        "$ROOT/$work/pulumi-tfgen-$name" schema --skip-examples --out .
    run_step "generating $name schema-embed.json" "$LOGS/embed-$name.log" \
        env -C "$work/$cmd" VERSION="$version" nice -n 10 go run ./generate.go
    run_step "building pulumi-resource-$name $version" "$LOGS/provider-$name.log" \
        nice -n 10 go -C "$work" build -trimpath -ldflags "$ldflags" -o "$ROOT/$out" "./$cmd"
    local got
    got="$("$out" -version 2>/dev/null | head -n1)"
    [ "${got#v}" = "$version" ] || die "pulumi-resource-$name reports '$got', expected $version"
    run_step "installing plugin $name $version into PULUMI_HOME" "$LOGS/install-$name.log" \
        "$PULUMI" plugin install resource "$name" "$version" --file "$ROOT/$out" --reinstall
    plugin_installed "$name" "$version" || die "plugin $name $version not listed by 'pulumi plugin ls'"
    printf '%s\n' "$pstamp" >"$STAMPS/provider-$name"
}

for p in $PROVIDERS; do
    build_provider "$p" "$(provider_version "$p")"
done

# pulumi-docker: its provider module is refused by the module proxy, so its
# source comes from ../shared/pulumi-docker (provider/ + two patches) and its
# upstream, kreuzwerker's Terraform provider, from the proxy (pinned by hash).
# A docker plugin at the pin that this script did not build (e.g. the official
# one from `pulumi plugin install resource docker VERSION`) is kept as it is.
build_docker_provider() {
    local version="$PULUMI_DOCKER_VERSION" work="$BUILD/docker"
    local out="$PLUGINS/docker-$version/pulumi-resource-docker"
    if plugin_installed docker "$version" && [ ! -f "$STAMPS/provider-docker" ] && [ "$FORCE" -eq 0 ]; then
        log "provider docker $version already installed (not built here: kept)"
        return 0
    fi
    if [ ! -d "$SHARED_DOCKER/provider" ]; then
        log "no ../shared/pulumi-docker: installing the official plugin (needs Pulumi's downloads)"
        run_step "pulumi plugin install resource docker $version" "$LOGS/install-docker.log" \
            "$PULUMI" plugin install resource docker "$version"
        rm -f "$STAMPS/provider-docker"
        return 0
    fi
    local pstamp
    pstamp="$(stamp_of "$version $TF_DOCKER_MODULE $TF_DOCKER_MODULE_SUM" "$SHARED_DOCKER")"
    if stamp_ok provider-docker "$pstamp" "$out" && plugin_installed docker "$version"; then
        log "provider docker $version already built and installed"
        return 0
    fi
    need_go
    rm -rf "$work"
    mkdir -p "$work" "$(dirname "$out")"
    cp -R "$SHARED_DOCKER/provider" "$work/provider"
    run_step "downloading the upstream ${TF_DOCKER_MODULE%@*} (module proxy)" "$LOGS/upstream-docker.log" \
        env -C "$work" go mod download -json "$TF_DOCKER_MODULE"
    local upstream_dir upstream_sum
    upstream_dir="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Dir"])' "$LOGS/upstream-docker.log")"
    upstream_sum="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["Sum"])' "$LOGS/upstream-docker.log")"
    [ "$upstream_sum" = "$TF_DOCKER_MODULE_SUM" ] ||
        die "${TF_DOCKER_MODULE} has hash $upstream_sum, versions.env pins $TF_DOCKER_MODULE_SUM"
    cp -R "$upstream_dir" "$work/upstream"
    chmod -R u+w "$work"
    local patch
    # git apply as a plain patch tool: the ceiling keeps it from finding this repository around the build dir.
    for patch in "$SHARED_DOCKER"/patches/*.patch; do
        GIT_CEILING_DIRECTORIES="$ROOT/$work" git -C "$work/upstream" apply --verbose "$patch" \
            >>"$LOGS/patch-docker.log" 2>&1 ||
            die "patch $(basename "$patch") does not apply to ${TF_DOCKER_MODULE} (log: $LOGS/patch-docker.log)"
    done
    [ -f "$work/upstream/shim/shim.go" ] || die "the shim patch left no upstream/shim/shim.go (log: $LOGS/patch-docker.log)"
    run_step "generating docker schema-embed.json" "$LOGS/embed-docker.log" \
        env -C "$work/provider/cmd/pulumi-resource-docker" VERSION="$version" nice -n 10 go run ./generate.go
    run_step "building pulumi-resource-docker $version (cold: about 10 minutes)" "$LOGS/provider-docker.log" \
        env -C "$work/provider" nice -n 10 go build -trimpath -tags no_compose \
        -ldflags "-s -w -X github.com/pulumi/pulumi-docker/provider/v5/pkg/version.Version=$version" \
        -o "$ROOT/$out" ./cmd/pulumi-resource-docker
    run_step "installing plugin docker $version into PULUMI_HOME" "$LOGS/install-docker.log" \
        "$PULUMI" plugin install resource docker "$version" --file "$ROOT/$out" --reinstall
    plugin_installed docker "$version" || die "plugin docker $version not listed by 'pulumi plugin ls'"
    printf '%s\n' "$pstamp" >"$STAMPS/provider-docker"
}
build_docker_provider

log "ready in $((SECONDS - T0))s: $("$PULUMI" version) ($PULUMI); PULUMI_HOME=$PULUMI_HOME"
"$PULUMI" plugin ls
log "use it with: source scripts/pulumi-env.sh"
