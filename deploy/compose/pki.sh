#!/bin/sh
# One-shot PKI of the compose setup (docker-compose.yml, service `pki`), run as the image's `node` user.
# For each administration: a two-level development PKI (`certs`: root CA, issuing CA, signing and TLS leaves)
# whose TLS certificate names the gateway's compose host name, then the partner's public anchors beside it,
# and a key that seals webhook secrets at rest. A second run keeps everything (it only fills what is missing).
#
#   /pki/<ADMIN>/own/           root.pem, issuing-ca.pem, signing.pem/.key, tls.pem/.key   (gateway volume)
#   /pki/<ADMIN>/partners/<P>/  root.pem, issuing-ca.pem of each partner                  (gateway volume)
#   /pki/<ADMIN>/webhook-secrets.key
#   /pki/ca/<ADMIN>/            root.key, issuing-ca.key: the CA keys, kept out of the gateways' volumes
set -eu
ADMINS="PE CL"
PKI=${PKI_DIR:-/pki}
CLI=${GATEWAY_CLI:-/app/src/cli/main.ts}

# Started as root only to hand the freshly created volumes to the image's unprivileged user; the rest runs as it.
if [ "$(id -u)" = 0 ] && id node >/dev/null 2>&1; then
  mkdir -p "$PKI/ca"
  for admin in $ADMINS; do mkdir -p "$PKI/$admin"; done
  chown node:node "$PKI/ca" "$PKI"/*/
  exec setpriv --reuid=node --regid=node --init-groups /bin/sh "$0" "$@"
fi
umask 077

for admin in $ADMINS; do
  lower=$(echo "$admin" | tr 'A-Z' 'a-z')
  own="$PKI/$admin/own"
  if [ ! -f "$own/tls.pem" ]; then
    node "$CLI" certs --admin "$admin" --out "$own" \
      --host "$lower-gateway" --host localhost --host 127.0.0.1
    mkdir -p "$PKI/ca/$admin"
    mv "$own/root.key" "$own/issuing-ca.key" "$PKI/ca/$admin/"
  fi
  if [ ! -f "$PKI/$admin/webhook-secrets.key" ]; then
    head -c 32 /dev/urandom | base64 > "$PKI/$admin/webhook-secrets.key"
  fi
done

# Exchange anchors: each administration gets every other's root and issuing CA (public certificates only).
for admin in $ADMINS; do
  for partner in $ADMINS; do
    [ "$admin" = "$partner" ] && continue
    mkdir -p "$PKI/$admin/partners/$partner"
    cp "$PKI/$partner/own/root.pem" "$PKI/$partner/own/issuing-ca.pem" "$PKI/$admin/partners/$partner/"
  done
  chmod -R go-w "$PKI/$admin"
  echo "pki: $admin ready (TLS host $(echo "$admin" | tr 'A-Z' 'a-z')-gateway)"
done
