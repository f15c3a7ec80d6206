# shellcheck shell=bash
# Offline environment for the Pulumi engine. Source it, do not execute it:
#
#     source scripts/pulumi-env.sh
#
# - puts the project-local engine (.tools/pulumi/bin, built by scripts/engine.sh)
#   first on PATH;
# - keeps all engine state inside the repository (git-ignored):
#   PULUMI_HOME=.tools/pulumi/home, backend file://.state/pulumi;
# - turns off every network call the CLI would make on its own (update check,
#   plugin downloads), so the engine only talks to its plugins over loopback;
# - provides a stack passphrase: an existing PULUMI_CONFIG_PASSPHRASE or
#   PULUMI_CONFIG_PASSPHRASE_FILE wins; otherwise one is generated once into
#   .state/passphrase (mode 0600) and never printed.

_pulumi_env_main() {
    local here root
    here="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")" && pwd)" || return 1
    root="$(cd "$here/.." && pwd)" || return 1

    export PULUMI_ENGINE_ROOT="$root"
    export PULUMI_SKIP_UPDATE_CHECK=true
    export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
    export PULUMI_HOME="$root/.tools/pulumi/home"
    mkdir -p "$PULUMI_HOME" "$root/.state/pulumi" || return 1
    chmod 0700 "$root/.state" 2>/dev/null || true
    export PULUMI_BACKEND_URL="file://$root/.state/pulumi"
    export GOTOOLCHAIN=local

    if [ -z "${PULUMI_CONFIG_PASSPHRASE+x}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
        local pass="$root/.state/passphrase"
        if [ ! -s "$pass" ]; then
            (
                umask 077
                # 32 random bytes, base64: never echoed.
                head -c 32 /dev/urandom | base64 | tr -d '\n' >"$pass.tmp" && mv "$pass.tmp" "$pass"
            ) || return 1
        fi
        chmod 0600 "$pass"
        export PULUMI_CONFIG_PASSPHRASE_FILE="$pass"
    fi

    case ":$PATH:" in
        *":$root/.tools/pulumi/bin:"*) ;;
        *) export PATH="$root/.tools/pulumi/bin:$PATH" ;;
    esac
}

_pulumi_env_main
_pulumi_env_rc=$?
unset -f _pulumi_env_main
if [ "$_pulumi_env_rc" -ne 0 ]; then
    echo "pulumi-env.sh: could not set up the offline Pulumi environment" >&2
fi
unset _pulumi_env_rc
