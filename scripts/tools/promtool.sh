#!/usr/bin/env bash
# Find or install promtool (Debian's `prometheus` package ships it) and print its path.
# The package's service is never started: a policy-rc.d denies it during the install,
# and a prometheus daemon started by the package (if any) is stopped afterwards.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then
  command -v promtool
  exit 0
fi
SUDO=""
if [[ "$(id -u)" != 0 ]]; then
  command -v sudo >/dev/null || { echo "promtool.sh: need root or sudo to apt-get install prometheus" >&2; exit 1; }
  SUDO="sudo"
fi
command -v apt-get >/dev/null || { echo "promtool.sh: no apt-get; install promtool (prometheus) yourself" >&2; exit 1; }

POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [[ ! -e "${POLICY}" ]]; then
  printf '#!/bin/sh\nexit 101\n' | ${SUDO} tee "${POLICY}" >/dev/null
  ${SUDO} chmod +x "${POLICY}"
  CREATED_POLICY=1
fi
cleanup() { if [[ "${CREATED_POLICY}" == 1 ]]; then ${SUDO} rm -f "${POLICY}"; fi; }
trap cleanup EXIT

(
  flock 9
  if ! command -v promtool >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    ${SUDO} apt-get update -qq >&2
    ${SUDO} apt-get install -y -qq --no-install-recommends prometheus >&2
  fi
) 9>/tmp/.hallway-promtool.lock

# Belt and braces: the Debian service must not keep running.
if [[ -x /etc/init.d/prometheus ]] && pgrep -x prometheus >/dev/null 2>&1; then
  ${SUDO} /etc/init.d/prometheus stop >&2 || true
fi
command -v promtool
