#!/usr/bin/env bash
# Creates .local/venv with every Python dependency (idempotent; pip's cache lives in
# .local/cache/pip so a second machine-local run needs no network).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VENV="$REPO/.local/venv"
PY="${PYTHON:-python3}"

if ! command -v "$PY" >/dev/null; then
  echo "venv: ERROR: python3 not found; install Python 3.11+ (apt-get install python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "venv: ERROR: $("$PY" --version) is too old; Hallway needs Python 3.11+ (set PYTHON=...)" >&2
  exit 1
fi
if [[ ! -x $VENV/bin/python ]]; then
  "$PY" -m venv "$VENV" || {
    echo "venv: ERROR: could not create a venv; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
  }
fi
export PIP_CACHE_DIR="$REPO/.local/cache/pip" PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/pip" install -q -e "$REPO[dev]" -e "$REPO/dev"
echo "venv: ready at $VENV"
