#!/bin/sh
# deploy/make-cert.sh DIR — a self-signed certificate for nginx when DIR has none
# (docker-compose.yml service "certs").  Replace DIR/cert.pem and DIR/key.pem with the real
# chain and key for production; this script never overwrites them.
set -eu
dir="${1:-/tls}"
if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ]; then
  exit 0
fi
command -v openssl >/dev/null 2>&1 || apk add --no-cache openssl >/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=${DESK_TLS_NAME:-localhost}" \
  -addext "subjectAltName=DNS:${DESK_TLS_NAME:-localhost}" \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
chmod 600 "$dir/key.pem"
chmod 644 "$dir/cert.pem"
echo "made a self-signed certificate for ${DESK_TLS_NAME:-localhost} in $dir"
