# Sourced by the scripts that read ../shared (upstream sources and binaries no registry here serves).
# Prints the folder: RAE_SHARED_DIR when set; else shared/ beside this checkout; else, for a git worktree
# kept elsewhere, shared/ beside the main checkout the worktree belongs to.
rae_shared_dir() {
    local root=$1 common
    if [ -n "${RAE_SHARED_DIR:-}" ]; then echo "$RAE_SHARED_DIR"; return; fi
    if [ -d "$root/../shared" ]; then echo "$root/../shared"; return; fi
    common=$(git -C "$root" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
    if [ -n "$common" ] && [ -d "$common/../../shared" ]; then echo "$(cd "$common/../../shared" && pwd)"; return; fi
    echo "$root/../shared"  # absent: the caller names what it needed from it
}
