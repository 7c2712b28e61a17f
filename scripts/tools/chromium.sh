#!/usr/bin/env bash
# Find or install Debian's Chromium (for the browser tests) and print its path.
set -euo pipefail
for bin in chromium chromium-browser; do
  if command -v "$bin" >/dev/null 2>&1; then command -v "$bin"; exit 0; fi
done
if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
  echo "chromium.sh: Chromium is missing; install Debian's 'chromium' package (as root: apt-get install chromium)" >&2
  exit 1
fi
(
  flock 9
  if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    apt-get install -y -qq chromium >/dev/null
  fi
) 9>/tmp/hallway-apt.lock
command -v chromium
