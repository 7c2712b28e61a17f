#!/usr/bin/env bash
# Fetch (cached) and start the local infrastructure on loopback: Kafka,
# OpenSearch, PostgreSQL, SMTP sink (ports in docs/conventions.md).
# Idempotent: servers already up are left alone. Exits non-zero if any server
# did not become ready; the others are left running (down.sh stops them).
#
# Env: HALLWAY_STACK_DIR (default <repo>/.local), HALLWAY_STACK_TIMEOUT (s).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVERS=(kafka opensearch postgres smtp)
t0="$(now)"

# One up/down at a time per state dir. fd 9 is closed for the children so no
# server inherits (and keeps holding) the lock.
exec 9>"$RUN/stack.lock"
flock -w 600 9 || die stack "another up.sh/down.sh holds $RUN/stack.lock"

# 1. Downloads first and one by one: Maven's local repo is not safe for
#    concurrent writers, and a missing prerequisite should stop us before
#    anything starts. A no-op when everything is cached.
for s in "${SERVERS[@]}"; do
  "$STACK_DIR/$s.sh" fetch 9>&-
done

# 2. Start in parallel (start-up is mostly waiting: JVM warm-up, recovery);
#    each script waits for its own server to be really ready and prints one
#    line, shown here as soon as it finishes.
run_all start "${SERVERS[@]}"

if ((${#FAILED[@]})); then
  echo "stack: FAILED: ${FAILED[*]} (servers that came up are left running; scripts/stack/down.sh stops them)" >&2
  exit 1
fi
echo "stack: all up in $(since "$t0") (logs in $LOGS)"
