#!/usr/bin/env bash
# The SFTP backup tests start Debian's OpenSSH sshd on loopback; install it when missing and we are root.
set -euo pipefail
if [ -x /usr/sbin/sshd ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's openssh-server for the SFTP backup tests (apt-get)..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d: install the binaries only; the tests start their own sshd, never the system service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends openssh-server >/dev/null
else
  echo "sshd is not installed and this user cannot apt-get it: the SFTP backup tests will be skipped." >&2
fi
