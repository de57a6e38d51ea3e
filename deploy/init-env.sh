#!/usr/bin/env bash
# Writes the env files of deploy/compose.yaml, each container's secrets in a file of its own:
# nexus.env (every key generated with `nexus keys generate`, by the image or by the binary
# NEXUS_BIN names; the database URL; the public URL and return hosts you give), postgres.env
# (the database password), gateway.env (the split Gateway's service key) and grafana.env
# (Grafana's admin password). It never overwrites an existing file.
#
#   deploy/init-env.sh https://nexus.example.com app.example.com
#
# NEXUS_ENV_DIR writes elsewhere (default: this script's directory); NEXUS_VERSION picks the
# image tag (default: latest).
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

dir=${NEXUS_ENV_DIR:-"$(dirname "$0")"}
for name in nexus postgres gateway grafana; do
  if [ -e "$dir/$name.env" ]; then
    echo "$dir/$name.env exists; not overwriting it (delete the env files first to start over)" >&2
    exit 1
  fi
done

generate_key() {
  if [ -n "${NEXUS_BIN:-}" ]; then
    "$NEXUS_BIN" keys generate
  else
    docker run --rm "ghcr.io/nexus-broker/nexus:${NEXUS_VERSION:-latest}" keys generate
  fi
}

# Hex: it is repeated inside NEXUS_DATABASE_URL, where base64's + and / would need escaping.
random_hex() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
password=$(random_hex)
encryption_key=$(generate_key)
state_key=$(generate_key)
admin_key=$(generate_key)
service_key=$(generate_key)

umask 077
written="# Written by deploy/init-env.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ); keep it secret."
cat >"$dir/postgres.env" <<ENV
$written
POSTGRES_PASSWORD=$password
ENV
cat >"$dir/gateway.env" <<ENV
$written
NEXUS_BROKER_SERVICE_KEY=$service_key
ENV
cat >"$dir/grafana.env" <<ENV
$written
GF_SECURITY_ADMIN_PASSWORD=$(random_hex)
ENV
cat >"$dir/nexus.env" <<ENV
$written
# Every variable is explained in deploy/nexus.env.example. Losing NEXUS_ENCRYPTION_KEYS loses
# every stored credential.
NEXUS_DATABASE_URL=postgres://nexus:$password@postgres:5432/nexus
NEXUS_ENCRYPTION_KEYS=$encryption_key
NEXUS_STATE_KEY=$state_key
NEXUS_ADMIN_KEYS=$admin_key
NEXUS_SERVICE_KEYS=$service_key
NEXUS_PUBLIC_URL=$public_url
NEXUS_ALLOWED_RETURN_URLS=$return_hosts
ENV
echo "wrote nexus.env, postgres.env, gateway.env and grafana.env in $dir (mode 0600); the admin key is NEXUS_ADMIN_KEYS in nexus.env"
