#!/usr/bin/env bash
# Stop the local infrastructure that up.sh started (found through the pid
# files in $STATE/run): SIGTERM / pg_ctl fast shutdown first, SIGKILL after a
# grace period. Safe to run when nothing runs. Data is kept.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=(kafka opensearch postgres smtp)

exec 9>"$RUN/stack.lock"
flock -w 600 9 || die stack "another up.sh/down.sh holds $RUN/stack.lock"

# In parallel: each graceful shutdown is mostly waiting.
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
declare -A job_of=()
for s in "${SERVERS[@]}"; do
  "$STACK_DIR/$s.sh" stop >"$out/$s" 2>&1 9>&- &
  job_of[$!]=$s
done
failed=()
while ((${#job_of[@]})); do
  pid=
  if wait -n -p pid "${!job_of[@]}"; then rc=0; else rc=$?; fi
  [[ -n $pid ]] || break
  s=${job_of[$pid]}
  unset "job_of[$pid]"
  if ((rc == 0)); then
    cat "$out/$s"
  else
    cat "$out/$s" >&2
    failed+=("$s")
  fi
done
if ((${#failed[@]})); then
  echo "stack: could not stop: ${failed[*]}" >&2
  exit 1
fi
