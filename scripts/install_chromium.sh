#!/usr/bin/env bash
# Installs Debian's Chromium when no chromium is on PATH: the browser tests (pytest -m browser) drive it through
# Playwright, which cannot download a browser build of its own on these machines. Non-interactive; needs root
# (or sudo).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  SUDO="sudo"
fi
echo "installing Debian's chromium for the browser tests" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
command -v chromium >/dev/null
