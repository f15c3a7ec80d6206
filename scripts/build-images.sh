#!/usr/bin/env bash
# Build the project's slim images without any registry, and record their ids in build/images.json.
#
#   bash scripts/build-images.sh            # base (if absent), postgres, tls-proxy, qdrant, api
#   QDRANT_BINARY=path/to/qdrant bash scripts/build-images.sh   # default: ../shared/qdrant/qdrant beside the repo
#   BASE_IMAGE=debian:bookworm-slim bash scripts/build-images.sh   # use an existing base image instead
#   NO_CACHE=1 IMAGE_NAMESPACE=rae-bench IMAGES_JSON=build/bench-images.json bash scripts/build-images.sh
#       # a cold build under other tags, leaving the stack's images and build/images.json alone
#
# The base is Debian bookworm from `debootstrap --variant=minbase` + `docker import` (skipped when the
# tag exists). Service images install Debian packages on it; generated files (pg_hba.conf, HAProxy
# config, SQL settings) are rendered from components/*_runtime.py, which read the baseline, into a
# staging build context under build/context/. Rebuilds are cached by docker.
# Qdrant's image wraps the server binary of the pinned release (components/qdrant_runtime.py), checked
# against its pinned sha256 before it enters the build context; the binary is never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
step() { printf '[images %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

namespace=${IMAGE_NAMESPACE:-rae}
base_tag=$namespace/base:bookworm-minbase
postgres_tag=$namespace/postgres:15
proxy_tag=$namespace/tls-proxy:haproxy
qdrant_tag=$namespace/qdrant:local-build
api_tag=$namespace/api:reference
images_json=${IMAGES_JSON:-build/images.json}
cache_flag=()
[ "${NO_CACHE:-0}" = 1 ] && cache_flag=(--no-cache)
python=.venv/bin/python
[ -x "$python" ] || python=python3
contexts=build/context
mkdir -p build "$contexts"

docker info >/dev/null 2>&1 || { echo "[images] no Docker engine answers: run scripts/ensure-docker.sh first" >&2; exit 1; }

# The Debian mirror the host's apt already uses (deb822 or one-line sources); debootstrap's default otherwise.
host_debian_mirror() {
    { grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
      grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}'; } | grep -v -- '-security' | grep '/debian/\?$' | head -1 || true
}

build_base() {
    if [ -n "${BASE_IMAGE:-}" ]; then
        step "base: using BASE_IMAGE=$BASE_IMAGE"
        docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || { echo "[images] BASE_IMAGE $BASE_IMAGE is not present on this engine" >&2; exit 1; }
        base_ref=$BASE_IMAGE
        return
    fi
    base_ref=$base_tag
    if docker image inspect "$base_tag" >/dev/null 2>&1; then
        step "base: $base_tag present, skipped"
        return
    fi
    local mirror rootfs
    mirror=${DEBIAN_MIRROR:-$(host_debian_mirror)}
    rootfs=$(mktemp -d "$repo/build/rootfs.XXXXXX")
    # A RETURN trap outlives the function that set it and fires when a later `.` finishes, where rootfs is no longer
    # set (set -u stops the build): it removes itself after its one run.
    trap 'rm -rf "$rootfs"; trap - RETURN' RETURN
    # An explicit keyring makes debootstrap fail closed: without one it only warns and installs unverified packages.
    local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || { echo "[images] $keyring is missing (package debian-archive-keyring); refusing an unverified base (ISO 27001:2022 A.8.19)" >&2; exit 1; }
    step "base: debootstrap --variant=minbase bookworm ${mirror:-(debootstrap default mirror)} (about a minute)"
    debootstrap --keyring="$keyring" --variant=minbase bookworm "$rootfs" ${mirror:+"$mirror"} \
        | awk '/^I: (Retrieving|Validating|Extracting|Installing|Configuring|Base system)/ && ++n % 40 == 1 {print "[images]   " $0; fflush()}'
    step "base: slimming (no docs, man pages or locales now or in later installs) and apt sources incl. security"
    cp "$repo/images/base/dpkg-slim.cfg" "$rootfs/etc/dpkg/dpkg.cfg.d/slim"
    cp "$repo/images/base/apt-slim.conf" "$rootfs/etc/apt/apt.conf.d/90slim"
    # debootstrap wrote the mirror it used; the image also gets that mirror's updates and security suites.
    local used_mirror
    used_mirror=$(awk '$1 == "deb" {print $2; exit}' "$rootfs/etc/apt/sources.list")
    cat > "$rootfs/etc/apt/sources.list" <<EOF
deb ${used_mirror} bookworm main
deb ${used_mirror} bookworm-updates main
deb ${used_mirror%/debian*}/debian-security bookworm-security main
EOF
    find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
    rm -rf "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
           "$rootfs"/usr/share/locale/* "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
    step "base: docker import -> $base_tag"
    tar -C "$rootfs" --numeric-owner -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' - "$base_tag" >/dev/null
}

# Stage a build context: the image folder plus the files rendered from the runtime modules.
stage_context() {
    local name=$1 dir=$contexts/$1
    rm -rf "$dir"
    mkdir -p "$dir"
    cp -r "images/$name/." "$dir/"
    echo "$dir"
}

# docker build with the build args of components/<module>.build_args(); progress per Dockerfile step.
build_image() {
    local name=$1 tag=$2 dir=$3 module=$4 arg
    local -a build_args=(--build-arg "BASE_IMAGE=$base_ref")
    while IFS= read -r arg; do build_args+=(--build-arg "$arg"); done < <("$python" -c "
import sys; sys.path.insert(0, '.')
from components import $module
print('\\n'.join(f'{k}={v}' for k, v in $module.build_args().items()))")
    local log=build/logs/$name.log
    mkdir -p build/logs
    step "$name: docker build -> $tag (a first build installs Debian packages: a few minutes; log: $log)"
    docker build "${cache_flag[@]}" "${build_args[@]}" -t "$tag" "$dir" 2>&1 | tee "$log" \
        | awk '/^Step [0-9]+\/[0-9]+ :/ {print "[images]   " substr($0, 1, 110); fflush()}'
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "[images] $name: docker build failed; last lines of $log:" >&2
        tail -25 "$log" >&2
        exit 1
    fi
}

build_base

dir=$(stage_context postgres)
mkdir -p "$dir/sql"
cp components/sql/*.sql "$dir/sql/"
"$python" - "$dir" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from components import postgres_runtime
out = Path(sys.argv[1])
(out / "pg_hba.conf").write_text(postgres_runtime.pg_hba_conf())
(out / "sql" / "000_settings.psql").write_text(postgres_runtime.sql_settings())
EOF
build_image postgres "$postgres_tag" "$dir" postgres_runtime

dir=$(stage_context tls-proxy)
"$python" - "$dir" <<'EOF'
import sys
from pathlib import Path
sys.path.insert(0, ".")
from components import proxy_runtime
out = Path(sys.argv[1])
(out / "haproxy.cfg").write_text(proxy_runtime.haproxy_config())
(out / "healthcheck").write_text(proxy_runtime.healthcheck_script())
(out / "healthcheck").chmod(0o755)
EOF
build_image tls-proxy "$proxy_tag" "$dir" proxy_runtime

dir=$(stage_context qdrant)
. "$repo/scripts/shared-dir.sh"
qdrant_binary=${QDRANT_BINARY:-$(rae_shared_dir "$repo")/qdrant/qdrant}
"$python" - "$qdrant_binary" "$dir/qdrant" <<'EOF'
import hashlib, shutil, sys
from pathlib import Path
sys.path.insert(0, ".")
from components import qdrant_runtime
source, target = Path(sys.argv[1]), Path(sys.argv[2])
if not source.is_file():
    sys.exit(f"[images] the Qdrant {qdrant_runtime.VERSION} server binary is not at {source}: set QDRANT_BINARY "
             "(shared/qdrant/qdrant beside the repository by default)")
digest = hashlib.sha256(source.read_bytes()).hexdigest()
if digest != qdrant_runtime.BINARY_SHA256:
    sys.exit(f"[images] {source} has sha256 {digest}, not the pinned {qdrant_runtime.BINARY_SHA256} of Qdrant "
             f"{qdrant_runtime.VERSION}; refusing an unverified binary (ISO 27001:2022 A.8.19, A.8.32)")
shutil.copyfile(source, target)
target.chmod(0o555)
EOF
build_image qdrant "$qdrant_tag" "$dir" qdrant_runtime

# The reference API for the API slot (rae:apiImage): Debian's Python packages, the code of images/api/rae_api.
dir=$(stage_context api)
build_image api "$api_tag" "$dir" api_runtime

step "writing $images_json"
"$python" - "$images_json" "$base_ref" "$postgres_tag" "$proxy_tag" "$qdrant_tag" "$api_tag" <<'EOF'
import json, subprocess, sys
refs = dict(zip(("base", "postgres", "tls-proxy", "qdrant", "api"), sys.argv[2:]))
ids = {name: subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref],
                            check=True, capture_output=True, text=True).stdout.strip() for name, ref in refs.items()}
with open(sys.argv[1], "w") as handle:
    json.dump({name: {"ref": refs[name], "id": ids[name]} for name in refs}, handle, indent=2)
    handle.write("\n")
for name in refs:
    print(f"[images]   {name:9} {refs[name]:28} {ids[name]}")
EOF
