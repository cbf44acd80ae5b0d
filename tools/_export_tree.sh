# Sourced by tools/check_wheel.sh and tools/debug_build.sh (needs $REPO).
# export_tree DEST: copy the working tree (tracked files plus untracked ones
# git does not ignore, so uncommitted edits are included) to DEST.
export_tree() {
    rm -rf "$1"
    mkdir -p "$1"
    (
        cd "$REPO"
        git ls-files -z --cached --others --exclude-standard |
            while IFS= read -r -d '' f; do
                # skip tracked files deleted in the working tree
                if [[ -e "$f" ]]; then cp --parents -p -- "$f" "$1/"; fi
            done
    )
}
