#!/usr/bin/env bash
# OCR of scanned pages runs Debian's tesseract with the Slovene, Estonian and English packs, and the
# tests render scans with a font that has č š ž õ ä ö ü (DejaVu). Install what is missing when we are
# root; otherwise say what to install (OCR then reports "tesseract is not installed" on each record).
set -euo pipefail
packages=()
command -v tesseract >/dev/null 2>&1 || packages+=(tesseract-ocr)
for lang in slv est eng; do
  if ! { command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx "$lang"; }; then
    packages+=("tesseract-ocr-$lang")
  fi
done
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || packages+=(fonts-dejavu-core)
if [ "${#packages[@]}" -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing ${packages[*]} for OCR of scans (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
else
  echo "Missing ${packages[*]}: scanned pages will not be recognised (and the OCR tests are skipped)" \
       "until an administrator runs: apt-get install ${packages[*]}" >&2
fi
