#!/usr/bin/env bash
# The interop suite and the signing API tests with EVERY key in a SoftHSM2 token: a fresh token
# in a temporary folder, the service's settings pointing at it (the tests' Settings take
# ESEAL_KEY_STORE and ESEAL_PKCS11_* from the environment), then pytest on those folders.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$work/tokens" > "$work/softhsm2.conf"
export SOFTHSM2_CONF="$work/softhsm2.conf"
pin="$(head -c9 /dev/urandom | base64 | tr -dc 0-9A-Za-z | head -c8)"
softhsm2-util --init-token --free --label eseal-suite --pin "$pin" --so-pin "${pin}so" >/dev/null
module=/usr/lib/softhsm/libsofthsm2.so
[ -f "$module" ] || module="$(dpkg -L libsofthsm2 | grep 'libsofthsm2.so$' | head -1)"
# SM2 off: standard PKCS#11 has no SM2 mechanism, so SM2 keys would stay in the database
export ESEAL_KEY_STORE=pkcs11 ESEAL_PKCS11_MODULE="$module" \
  ESEAL_PKCS11_TOKEN_LABEL=eseal-suite ESEAL_PKCS11_PIN="$pin" ESEAL_SM2_ENABLED=false
.venv/bin/pytest -q -p no:cacheprovider tests/interop tests/app/test_signing_api.py "$@"
# and the suite really used the token: count its private keys
.venv/bin/python - <<'PY'
import os, pkcs11
lib = pkcs11.lib(os.environ["ESEAL_PKCS11_MODULE"])
with lib.get_token(token_label="eseal-suite").open(user_pin=os.environ["ESEAL_PKCS11_PIN"]) as s:
    n = len(list(s.get_objects({pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY})))
print(f"private keys in the token after the suite: {n}")
raise SystemExit(0 if n >= 5 else 1)
PY
