#!/usr/bin/env bash
# Makes podman usable on a fresh Debian machine (run as root): Debian's podman, buildah, runc
# and uidmap, and /etc/containers/containers.conf with runc, cgroupfs, a file event log and
# explicit ulimits (crun fails on this kind of machine's cgroups; without the ulimits runc
# fails with `setrlimit ... Operation not permitted`). Idempotent: does nothing when set up.
set -euo pipefail

CONF=/etc/containers/containers.conf

log() { printf 'setup-podman: %s\n' "$*" >&2; }

missing=()
for tool in podman buildah runc newuidmap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -ne 0 ]]; then
        log "missing ${missing[*]}; run as root to install them (apt-get install podman buildah runc uidmap)"
        exit 1
    fi
    log "installing podman buildah runc uidmap (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq podman buildah runc uidmap >/dev/null
fi

if [[ ! -e $CONF ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        log "$CONF is missing; run as root to write it"
        exit 1
    fi
    log "writing $CONF"
    mkdir -p "$(dirname "$CONF")"
    cat >"$CONF" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
elif ! grep -q '^runtime *= *"runc"' "$CONF"; then
    log "note: $CONF exists and does not select runc; leaving it as it is"
fi
