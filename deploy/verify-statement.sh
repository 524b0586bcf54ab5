#!/usr/bin/env bash
# Checks a downloaded household income statement with openssl and coreutils alone, as a bank
# or a township may, without the platform's software:
#   bash deploy/verify-statement.sh statement.json key.pem
# key.pem is the platform's published key of the serial the statement names:
#   curl -s "$SERVER/api/v1/statement-keys/$SERIAL?format=pem" > key.pem
# The statement member of the document is canonical JSON (keys sorted, no spaces, UTF-8):
# the bytes that were hashed (SHA-256) and signed (Ed25519).
set -euo pipefail
doc=$1 key=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# {"statement":<canonical>,"sha256":"<hex>","signature":"<base64>","key_serial":"<hex>"}
shape='^\{"statement":(.*),"sha256":"([0-9a-f]{64})","signature":"([A-Za-z0-9+/=]+)","key_serial":"([0-9a-f]+)"\}$'
grep -Eq "$shape" "$doc" || { echo "not a Cunhuo statement document" >&2; exit 1; }
printf '%s' "$(sed -E "s/$shape/\\1/" "$doc")" > "$work/statement"
sha=$(sed -E "s/$shape/\\2/" "$doc")
sed -E "s/$shape/\\3/" "$doc" | base64 -d > "$work/signature"
[[ $(openssl dgst -sha256 -r "$work/statement" | cut -d' ' -f1) == "$sha" ]] ||
  { echo "the contents do not match the sha256: altered" >&2; exit 1; }
openssl pkeyutl -verify -pubin -inkey "$key" -rawin -in "$work/statement" \
  -sigfile "$work/signature"
