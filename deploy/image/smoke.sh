#!/usr/bin/env bash
# Builds the image from a host-built binary on a locally made base (no registry, no network)
# and checks how it behaves: size, refusal without keys, a bad database URL, a healthy start
# against PostgreSQL, a missing CA bundle. Prints PASS/FAIL per check; exits non-zero at the
# first failure. Cleans up its containers, volume and image on exit.
#
#   NEXUS_SMOKE_DATABASE_URL=postgres://postgres@127.0.0.1:5432/nexus_smoke \
#       deploy/image/smoke.sh [--max-size-mb N | --no-size-check] [--keep-image] BINARY
#
# BINARY: a `nexus` built for this host (target/release/nexus for the size check; a debug
# build needs --no-size-check). The database must exist and be empty or Nexus's own: the
# server migrates it. Sets up podman when missing (deploy/image/setup-podman.sh, as root).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
IMAGE=localhost/nexus:smoke
BASE=localhost/nexus-runtime-base:latest
MAX_SIZE_MB=50
SIZE_CHECK=true
KEEP_IMAGE=false
BINARY=

usage() {
    sed -n '2,12s/^# \{0,1\}//p' "$0" >&2
    exit "${1:-2}"
}

while (($# > 0)); do
    case $1 in
        --max-size-mb) MAX_SIZE_MB=${2:?--max-size-mb needs a number}; shift 2 ;;
        --no-size-check) SIZE_CHECK=false; shift ;;
        --keep-image) KEEP_IMAGE=true; shift ;;
        -h | --help) usage 0 ;;
        -*) echo "smoke: unknown option $1" >&2; usage ;;
        *)
            [[ -z $BINARY ]] || { echo "smoke: one BINARY only" >&2; usage; }
            BINARY=$1; shift
            ;;
    esac
done
[[ -n $BINARY ]] || usage
[[ -f $BINARY && -x $BINARY ]] || { echo "smoke: $BINARY is not an executable file" >&2; exit 2; }
[[ $MAX_SIZE_MB =~ ^[0-9]+$ ]] || { echo "smoke: --max-size-mb takes whole megabytes" >&2; exit 2; }
[[ -n ${NEXUS_SMOKE_DATABASE_URL:-} ]] || {
    echo "smoke: set NEXUS_SMOKE_DATABASE_URL to an (empty) PostgreSQL database for the server" >&2
    exit 2
}

log() { printf 'smoke: %s\n' "$*" >&2; }
pass() { printf 'PASS %s\n' "$*"; }
# FAIL, the evidence (files or text given after the message), and stop (the trap cleans up).
fail() {
    local message=$1
    shift
    printf 'FAIL %s\n' "$message"
    local item
    for item in "$@"; do
        if [[ -f $item ]]; then
            printf -- '--- %s\n' "$(basename "$item")"
            tail -n 40 "$item"
        else
            printf '%s\n' "$item"
        fi
    done
    exit 1
}

for tool in curl timeout; do
    command -v "$tool" >/dev/null || { log "needs $tool"; exit 2; }
done
if command -v jq >/dev/null; then
    is_json() { jq -e 'type == "object"' >/dev/null 2>&1 <<<"$1"; }
elif command -v python3 >/dev/null; then
    is_json() { python3 -c 'import json, sys; assert isinstance(json.loads(sys.argv[1]), dict)' "$1" 2>/dev/null; }
else
    log "needs jq or python3 (to parse a log line)"
    exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/nexus-smoke.XXXXXX")
suffix=$$
volume=nexus-smoke-data-$suffix
containers=()

cleanup() {
    local status=$?
    set +e
    local ctr
    for ctr in "${containers[@]}"; do
        podman rm -f -t 0 "$ctr" >/dev/null 2>&1
    done
    podman volume rm -f "$volume" >/dev/null 2>&1
    if ! $KEEP_IMAGE; then
        podman rmi -f "$IMAGE" >/dev/null 2>&1
        # The build's stage images (the prebuilt stage holds a copy of the binary): whatever
        # image appeared since the build began. (--layers=false would leave none, but buildah
        # 1.28 then fails with `identifier is not an image` on the BUILDER alias stage.)
        if [[ -f $work/images.before ]]; then
            local id
            podman images -a -q --no-trunc | sort -u | comm -13 "$work/images.before" - |
                while IFS= read -r id; do podman rmi -f "$id" >/dev/null 2>&1; done
        fi
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- podman, the base, the image ---
"$HERE/setup-podman.sh"
"$HERE/make-base.sh" --binary "$BINARY" --name "$BASE"

# A context of its own: the Dockerfile, .dockerignore, the empty data directory and the
# binary at target/release/nexus (the repository's own target/ is left alone).
context=$work/context
mkdir -p "$context/target/release" "$context/deploy/image/data"
cp "$REPO/Dockerfile" "$REPO/.dockerignore" "$context/"
cp "$BINARY" "$context/target/release/nexus"
version=$(tr -d '[:space:]' <"$REPO/VERSION" 2>/dev/null || echo dev)
commit=$(git -C "$REPO" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

log "building $IMAGE from $BINARY"
podman images -a -q --no-trunc | sort -u >"$work/images.before"
if ! podman build --pull=never --network=none --format docker \
    --build-arg BUILDER=prebuilt --build-arg RUNTIME_BASE="$BASE" \
    --build-arg VERSION="$version" --build-arg NEXUS_BUILD_COMMIT="$commit" \
    -t "$IMAGE" "$context" >"$work/build.log" 2>&1; then
    fail "image build" "$work/build.log"
fi
pass "image build ($IMAGE)"

# --- a. size ---
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
size_mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1e6 }')
base_mb=$(podman image inspect --format '{{.Size}}' "$BASE" | awk '{ printf "%.1f", $1 / 1e6 }')
if $SIZE_CHECK; then
    if ((size < MAX_SIZE_MB * 1000 * 1000)); then
        pass "a. image size ${size_mb} MB < ${MAX_SIZE_MB} MB (base ${base_mb} MB)"
    else
        hint="a release build (strip = true) is expected; a debug build needs --no-size-check"
        fail "a. image size ${size_mb} MB >= ${MAX_SIZE_MB} MB (base ${base_mb} MB)" "$hint"
    fi
else
    log "a. size check skipped: image ${size_mb} MB (base ${base_mb} MB)"
fi

# Options every container of the image gets: as a hardened deployment would run it.
run_opts=(--read-only --user 65532:65532 --network host --tmpfs /tmp --log-driver k8s-file)
podman volume create "$volume" >/dev/null
run_opts+=(-v "$volume:/data")

# What the binary said about why it stopped: its own lines (`Error: ...` and causes), not the
# JSON log lines, plus any ERROR-level log line.
error_text() {
    { grep -v '^{' "$1" || true; grep '"level":"ERROR"' "$1" || true; } | grep -v '^[[:space:]]*$' || true
}

# Runs the image to completion (at most $1 seconds): exit code in $rc, the container's output
# in $work/NAME.out and .err (podman's own messages stay out of them). No HEALTHCHECK: these
# runs never get ready, and podman without systemd complains about the check's timer.
run_once() {
    local limit=$1 name=$2
    shift 2
    containers+=("$name")
    rc=0
    podman run -d --name "$name" --no-healthcheck "${run_opts[@]}" "$@" >/dev/null 2>"$work/$name.run" ||
        fail "podman run $name" "$work/$name.run"
    rc=$(timeout "$limit" podman wait "$name" 2>>"$work/$name.run") || rc=124
    podman logs "$name" >"$work/$name.out" 2>"$work/$name.err" || true
    podman rm -f -t 0 "$name" >/dev/null 2>&1 || true
}

# --- b. production without keys ---
run_once 60 "nexus-smoke-nokeys-$suffix" "$IMAGE"
if ((rc == 0 || rc == 124)); then
    fail "b. no keys: expected a refusal, got exit $rc" "$work/nexus-smoke-nokeys-$suffix.err"
elif ! grep -q 'production mode needs' "$work/nexus-smoke-nokeys-$suffix.err"; then
    fail "b. no keys: exit $rc but no 'production mode needs' on stderr" "$work/nexus-smoke-nokeys-$suffix.err"
fi
pass "b. production without keys refuses to start (exit $rc): $(grep -m1 -o 'production mode needs[^;]*' "$work/nexus-smoke-nokeys-$suffix.err")"

# --- keys and settings (env files, so no key shows in a process list) ---
free_port() {
    local port tries=0
    while ((tries++ < 100)); do
        port=$((20000 + RANDOM % 40000))
        [[ $port != "${1:-}" ]] || continue
        # Nothing answers on it (a listener on 0.0.0.0 or 127.0.0.1 would).
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s' "$port"
            return 0
        fi
    done
    return 1
}
broker_port=$(free_port) || fail "no free port for the Broker"
gateway_port=$(free_port "$broker_port") || fail "no free port for the Gateway"

# Six keys from the image itself: encryption, state, two admin, two service.
keys=()
for _ in 1 2 3 4 5 6; do
    key=$(podman run --rm --no-healthcheck --read-only --network none "$IMAGE" keys generate 2>"$work/keygen.err") ||
        fail "keys generate (podman run --rm $IMAGE keys generate)" "$work/keygen.err"
    ((${#key} >= 32)) || fail "keys generate printed a ${#key}-character key"
    keys+=("$key")
done
pass "keys generate: ${#keys[@]} keys of ${#keys[0]} characters"

umask 077
{
    printf 'NEXUS_ENCRYPTION_KEYS=%s\n' "${keys[0]}"
    printf 'NEXUS_STATE_KEY=%s\n' "${keys[1]}"
    printf 'NEXUS_ADMIN_KEYS=%s,%s\n' "${keys[2]}" "${keys[3]}"
    printf 'NEXUS_SERVICE_KEYS=%s,%s\n' "${keys[4]}" "${keys[5]}"
    printf 'NEXUS_PUBLIC_URL=https://nexus.example.test\n'
    printf 'NEXUS_ALLOWED_RETURN_URLS=app.example.test\n'
    printf 'NEXUS_BROKER_LISTEN=127.0.0.1:%s\n' "$broker_port"
    printf 'NEXUS_GATEWAY_LISTEN=127.0.0.1:%s\n' "$gateway_port"
} >"$work/keys.env"
printf 'NEXUS_DATABASE_URL=postgres://nobody@127.0.0.1:1/none\n' >"$work/bad-db.env"
printf 'NEXUS_DATABASE_URL=%s\n' "$NEXUS_SMOKE_DATABASE_URL" >"$work/db.env"
umask 022
log "Broker on 127.0.0.1:$broker_port, Gateway on 127.0.0.1:$gateway_port"

# --- c. a database that is not there ---
run_once 90 "nexus-smoke-baddb-$suffix" --env-file "$work/keys.env" --env-file "$work/bad-db.env" "$IMAGE"
err=$work/nexus-smoke-baddb-$suffix.err
if ((rc == 0 || rc == 124)); then
    fail "c. bad database URL: expected an error exit, got $rc" "$err"
elif grep -q 'panicked' "$err"; then
    fail "c. bad database URL: the binary panicked (exit $rc)" "$err"
elif ! error_text "$err" | grep -qi 'database'; then
    fail "c. bad database URL: exit $rc without an error naming the database" "$err"
fi
pass "c. bad database URL fails cleanly (exit $rc): $(error_text "$err" | head -n 1 | head -c 200)"

# --- d. a healthy start ---
ctr=nexus-smoke-serve-$suffix
containers+=("$ctr")
podman run -d --name "$ctr" "${run_opts[@]}" --env-file "$work/keys.env" --env-file "$work/db.env" \
    "$IMAGE" >/dev/null 2>"$work/run.err" || fail "d. podman run" "$work/run.err"
logs() { podman logs "$ctr" >"$work/serve.out" 2>"$work/serve.err" || true; }

ready=false
for _ in $(seq 1 60); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$broker_port/readyz" || true)
    if [[ $code == 200 ]]; then
        ready=true
        break
    fi
    state=$(podman inspect --format '{{.State.Status}}' "$ctr" 2>/dev/null || echo gone)
    if [[ $state != running ]]; then
        logs
        fail "d. server exited before it was ready (state $state)" "$work/serve.err" "$work/serve.out"
    fi
    sleep 0.5
done
$ready || { logs; fail "d. /readyz did not answer 200 within 30 s (last: $code)" "$work/serve.err"; }
pass "d. /readyz on the Broker answers 200"

if ! podman exec "$ctr" /usr/local/bin/nexus healthcheck >"$work/hc.out" 2>&1; then
    fail "d. podman exec $ctr nexus healthcheck" "$work/hc.out"
fi
pass "d. nexus healthcheck exits 0 inside the container"

if ! podman healthcheck run "$ctr" >"$work/phc.out" 2>&1; then
    fail "d. podman healthcheck run (the image's HEALTHCHECK)" "$work/phc.out" \
        "$(podman inspect --format '{{json .Config.Healthcheck}}' "$ctr" 2>&1)"
fi
pass "d. podman healthcheck run: healthy ($(podman inspect --format '{{json .Config.Healthcheck.Test}}' "$ctr"))"

pid=$(podman inspect --format '{{.State.Pid}}' "$ctr")
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
gid=$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")
if [[ $uids != "65532 65532 65532 65532" || $gid != 65532 ]]; then
    fail "d. process runs as uid/gid $uids/$gid, expected 65532" "$(podman top "$ctr" user group pid args 2>&1)"
fi
pass "d. the process runs as 65532:65532 ($(podman top "$ctr" user group | tail -n 1 | tr -s ' '))"

logs
first=$(grep -m1 . "$work/serve.err" || true)
if ! is_json "$first"; then
    fail "d. the first log line is not a JSON object" "$first"
fi
pass "d. logs are JSON: ${first:0:160}"

start=$(date +%s%N)
podman stop -t 10 "$ctr" >/dev/null 2>"$work/stop.err" || fail "d. podman stop" "$work/stop.err"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
elapsed=$(awk -v ms="$elapsed_ms" 'BEGIN { printf "%.1f", ms / 1000 }')
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$ctr")
if [[ $exit_code != 0 ]]; then
    logs
    fail "d. podman stop: exit code $exit_code after ${elapsed} s (137: killed after the 10 s grace)" "$work/serve.err"
elif ((elapsed_ms >= 10000)); then
    fail "d. podman stop took ${elapsed} s"
fi
pass "d. podman stop: exit 0 in ${elapsed} s"
podman rm -f -t 0 "$ctr" >/dev/null 2>&1 || true

# --- e. no CA bundle ---
# notmpcopyup: podman otherwise fills a tmpfs with the image's files at that path (Docker does not).
run_once 20 "nexus-smoke-noca-$suffix" --mount type=tmpfs,destination=/etc/ssl/certs,notmpcopyup \
    --env-file "$work/keys.env" --env-file "$work/db.env" "$IMAGE"
err=$work/nexus-smoke-noca-$suffix.err
if ((rc == 124)); then
    fail "e. without a CA bundle the server still runs after 20 s (expected a clear error)" "$err"
elif ((rc == 0)); then
    fail "e. without a CA bundle: exit 0, expected an error" "$err"
elif grep -q 'panicked' "$err"; then
    fail "e. without a CA bundle the binary panicked (exit $rc) instead of a clear error" "$err"
elif ! error_text "$err" | grep -Eqi 'certificate|\bCA\b'; then
    fail "e. without a CA bundle: exit $rc, but no error about CA certificates" "$err"
fi
pass "e. no CA bundle fails cleanly (exit $rc): $(error_text "$err" | head -n 1 | head -c 240)"

printf 'smoke: all checks passed (image %s MB, base %s MB)\n' "$size_mb" "$base_mb"
