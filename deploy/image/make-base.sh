#!/usr/bin/env bash
# Builds localhost/nexus-runtime-base:latest, a few-MB stand-in for
# gcr.io/distroless/cc-debian12:nonroot where image registries are unreachable: the dynamic
# loader and the shared libraries the binary links (libc, libm, libgcc_s, and whatever `ldd`
# names besides), the CA bundle, /etc/passwd and /etc/group with root and nonroot (65532), a
# writable /tmp (1777) and /data owned by 65532. Made from the host's files with tar and
# `podman import`: no registry, no network.
#
#   deploy/image/make-base.sh [--binary PATH] [--force] [--name IMAGE]
#
# Idempotent: an existing image is kept unless --force, or unless --binary links a library
# the existing image lacks (the image's label nexus.base.libs lists what it holds).
set -euo pipefail

NAME=localhost/nexus-runtime-base:latest
BINARY=
FORCE=false
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

usage() {
    sed -n '2,13s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

while (($# > 0)); do
    case $1 in
        --binary) BINARY=${2:?--binary needs a path}; shift 2 ;;
        --force) FORCE=true; shift ;;
        --name) NAME=${2:?--name needs an image name}; shift 2 ;;
        -h | --help) usage 0 ;;
        *) echo "make-base: unknown argument $1" >&2; usage ;;
    esac
done

log() { printf 'make-base: %s\n' "$*" >&2; }

# The libraries every Rust binary on glibc needs (distroless cc's set), found on this host.
baseline_libs() {
    local lib path
    for lib in libc.so.6 libm.so.6 libgcc_s.so.1; do
        path=$(ldconfig -p | awk -v lib="$lib" '$1 == lib && $NF ~ /^\// { print $NF; exit }')
        [[ -n $path ]] || { log "cannot find $lib on this host (ldconfig -p)"; exit 1; }
        printf '%s\n' "$path"
    done
    # The dynamic loader: the interpreter of any dynamically linked host program.
    ldd "$BASH" 2>/dev/null |
        awk '$1 ~ /^\// && $1 ~ /ld-linux/ { print $1 }'
}

# Absolute paths of what `ldd` says the binary loads (no vDSO).
binary_libs() {
    local out
    if ! out=$(ldd "$1" 2>&1); then
        if grep -q 'not a dynamic executable' <<<"$out"; then
            return 0 # static: needs nothing
        fi
        log "ldd $1 failed: $out"
        exit 1
    fi
    if grep -q 'not found' <<<"$out"; then
        log "$1 needs libraries this host lacks:"
        grep 'not found' <<<"$out" >&2
        exit 1
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$out"
}

needed=$(
    {
        baseline_libs
        [[ -z $BINARY ]] || binary_libs "$BINARY"
    } | sort -u
)
[[ -n $needed ]] || { log "found no libraries to include"; exit 1; }
libs_label=$(tr '\n' ' ' <<<"$needed" | sed 's/ $//')

if ! $FORCE && podman image exists "$NAME"; then
    have=$(podman image inspect --format '{{index .Labels "nexus.base.libs"}}' "$NAME")
    lacking=()
    while IFS= read -r lib; do
        [[ " $have " == *" $lib "* ]] || lacking+=("$lib")
    done <<<"$needed"
    if ((${#lacking[@]} == 0)); then
        log "$NAME exists (--force rebuilds it)"
        exit 0
    fi
    log "$NAME lacks ${lacking[*]}: rebuilding"
fi

[[ -r $CA_BUNDLE ]] || {
    log "$CA_BUNDLE is missing; install ca-certificates (apt-get install ca-certificates)"
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/nexus-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"/{etc/ssl/certs,tmp,data,root,home/nonroot,usr/local/bin}

while IFS= read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib" # the file itself, at the path the loader looks for it
done <<<"$needed"
cp -L "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
# Name lookups as distroless does them: /etc/hosts before DNS.
cat >"$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF

chmod 0755 "$root" "$root"/{etc,data,home,usr,usr/local,usr/local/bin}
chmod 1777 "$root/tmp"
chmod 0700 "$root/root" "$root/home/nonroot"
chmod 0644 "$root"/etc/{passwd,group,nsswitch.conf} "$root/etc/ssl/certs/ca-certificates.crt"

# Owners set in the archive (no chown needed): everything root's but nonroot's two directories.
tarball=$work/rootfs.tar
tar_common=(--numeric-owner --sort=name --mtime=@0 -C "$root")
tar "${tar_common[@]}" --owner=0 --group=0 \
    --exclude=./data --exclude=./home/nonroot -cf "$tarball" .
tar "${tar_common[@]}" --owner=65532 --group=65532 -rf "$tarball" ./data ./home/nonroot

old_id=$(podman image inspect --format '{{.Id}}' "$NAME" 2>/dev/null || true)
log "importing $NAME ($(du -k "$tarball" | cut -f1) KiB)"
podman import \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
    --change 'USER 65532:65532' \
    --change 'WORKDIR /home/nonroot' \
    --change "LABEL nexus.base.libs=\"$libs_label\"" \
    --quiet \
    --message 'nexus runtime base (distroless cc stand-in)' \
    "$tarball" "$NAME" >/dev/null
# The image this one replaces, now untagged (kept if an image or container still uses it).
if [[ -n $old_id && $old_id != "$(podman image inspect --format '{{.Id}}' "$NAME")" ]]; then
    podman rmi "$old_id" >/dev/null 2>&1 || true
fi
podman image inspect --format '{{.Id}} {{.Size}}' "$NAME" |
    awk -v name="$NAME" '{ printf "make-base: %s %.12s %.1f MB\n", name, $1, $2 / 1e6 }' >&2
