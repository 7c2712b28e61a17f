#!/usr/bin/env bash
# One line per local infrastructure server. Exit 0 when all are up, 1 when
# one runs but does not answer, 3 when one is down (LSB status codes).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rc=0
for s in kafka opensearch postgres smtp; do
  if "$STACK_DIR/$s.sh" status; then
    :
  else
    code=$?
    ((code > rc)) && rc=$code
  fi
done
exit "$rc"
