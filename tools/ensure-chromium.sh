#!/usr/bin/env bash
# Browser tests drive Debian's chromium with Playwright; install it when missing and we are root.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
else
  echo "chromium is not installed and this user cannot apt-get it: browser tests will be skipped." >&2
fi
