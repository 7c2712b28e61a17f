#!/usr/bin/env bash
# Stop the local infrastructure that up.sh started (found through the pid
# files in $STATE/run): SIGTERM / pg_ctl fast shutdown first, SIGKILL after a
# grace period. Safe to run when nothing runs. Data is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=(kafka opensearch postgres smtp)

exec 9>"$RUN/stack.lock"
flock -w 600 9 || die stack "another up.sh/down.sh holds $RUN/stack.lock"

run_all stop "${SERVERS[@]}"
if ((${#FAILED[@]})); then
  echo "stack: could not stop: ${FAILED[*]}" >&2
  exit 1
fi
