#!/usr/bin/env bash
# Installs the Debian packages eseal's tests drive (independent verifiers and a CJK font)
# when they are missing and we are root; otherwise says what is missing.
set -euo pipefail

need=()
command -v pdfsig >/dev/null 2>&1 || need+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need+=(qpdf)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)  # scripts/tour.sh
command -v jq >/dev/null 2>&1 || need+=(jq)  # scripts/tour.sh reads JSON answers with it
command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)
fc-list :lang=zh 2>/dev/null | grep -qi "noto" || need+=(fonts-noto-cjk fontconfig)
# a second, small CJK font: tests use it as a fast document font and as "a font besides the default"
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || need+=(fonts-wqy-zenhei)
[ -x /usr/bin/chromium ] || need+=(chromium)  # the console's browser tests (Playwright)
command -v gs >/dev/null 2>&1 || need+=(ghostscript)  # PDF/A-2b inputs in the sealing tests
# a PKCS#11 token for the key-store tests: the tool (softhsm2) and the module (libsofthsm2)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*-linux-gnu/softhsm/libsofthsm2.so >/dev/null 2>&1 \
  || need+=(libsofthsm2)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)  # shared rate limits across instances

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages (run as root to install): ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
