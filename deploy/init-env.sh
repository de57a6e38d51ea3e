#!/usr/bin/env bash
# Writes deploy/nexus.env for deploy/compose.yaml: every key generated with `nexus keys generate`
# (by the image, or by the binary NEXUS_BIN names), a random database password, and the public
# URL and return hosts you give. It never overwrites an existing file.
#
#   deploy/init-env.sh https://nexus.example.com app.example.com
#
# NEXUS_ENV_FILE writes elsewhere; NEXUS_VERSION picks the image tag (default: latest).
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 PUBLIC_URL RETURN_HOSTS   (e.g. https://nexus.example.com app.example.com,*.example.com)" >&2
  exit 2
fi
public_url=$1
return_hosts=$2
case "$public_url" in
  https://*) ;;
  *) echo "PUBLIC_URL must be https:// (browsers carry OAuth codes to it): $public_url" >&2; exit 2 ;;
esac

out=${NEXUS_ENV_FILE:-"$(dirname "$0")/nexus.env"}
if [ -e "$out" ]; then
  echo "$out exists; not overwriting it (delete it first to start over)" >&2
  exit 1
fi

generate_key() {
  if [ -n "${NEXUS_BIN:-}" ]; then
    "$NEXUS_BIN" keys generate
  else
    docker run --rm "ghcr.io/nexus-broker/nexus:${NEXUS_VERSION:-latest}" keys generate
  fi
}

# Hex: it is repeated inside NEXUS_DATABASE_URL, where base64's + and / would need escaping.
password=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
encryption_key=$(generate_key)
state_key=$(generate_key)
admin_key=$(generate_key)
service_key=$(generate_key)

umask 077
cat >"$out" <<ENV
# Written by deploy/init-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ). Every variable is explained in
# deploy/nexus.env.example. Keep this file secret: losing NEXUS_ENCRYPTION_KEYS loses every stored
# credential.
POSTGRES_PASSWORD=$password
NEXUS_DATABASE_URL=postgres://nexus:$password@postgres:5432/nexus
NEXUS_ENCRYPTION_KEYS=$encryption_key
NEXUS_STATE_KEY=$state_key
NEXUS_ADMIN_KEYS=$admin_key
NEXUS_SERVICE_KEYS=$service_key
NEXUS_BROKER_SERVICE_KEY=$service_key
NEXUS_PUBLIC_URL=$public_url
NEXUS_ALLOWED_RETURN_URLS=$return_hosts
ENV
echo "wrote $out (mode 0600); the admin key is NEXUS_ADMIN_KEYS in it"
