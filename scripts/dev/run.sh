#!/usr/bin/env bash
# Runs the Hallway services and gateway on the local stack (background processes,
# logs in .local/logs, pids in .local/run). `run.sh start|stop|status`.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="$REPO/.local"
PY="$STATE/venv/bin/python"
LOGS="$STATE/logs"
RUN="$STATE/run"
mkdir -p "$LOGS" "$RUN"
SERVICES=(profile feed search notification)
declare -A GRPC=([profile]=50051 [feed]=50052 [search]=50053 [notification]=50054)
HTTP_PORT="${HALLWAY_HTTP_PORT:-8080}"
# Local PKI (a CA, a certificate per process, the identity key pair) and development
# mode, which allows the development sign-in and secret; the Helm chart never sets it.
PKI="$STATE/pki"
export HALLWAY_DEV_MODE=true HALLWAY_DEV_LOGIN=true HALLWAY_DEV_PKI="$PKI"

pki_env() { # process -> KEY=VALUE lines of its certificate and keys
  "$PY" -m hallway_dev.devpki "$PKI" --env "$1"
}

alive() { [[ -f $RUN/$1.pid ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

launch() { # name
  local name=$1
  if alive "$name"; then
    echo "$name: already running (pid $(cat "$RUN/$name.pid"))"
    return
  fi
  local port=${GRPC[$name]:-$HTTP_PORT}
  if port_taken "$port"; then
    echo "$name: ERROR: port $port is taken by another process; stop it or run 'make down'" >&2
    exit 1
  fi
  local -a tls
  mapfile -t tls < <(pki_env "$name")
  setsid nohup env "${tls[@]}" "$PY" -m "hallway_$name" serve >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

wait_ready() { # name check-args...
  local name=$1
  shift
  local -a tls
  mapfile -t tls < <(pki_env client)
  for _ in $(seq 1 150); do
    if env "${tls[@]}" "$PY" -m hallway_common.healthcheck "$@" 2>/dev/null; then
      echo "$name: up"
      return
    fi
    if ! alive "$name"; then
      echo "$name: ERROR: exited during start-up; last lines of $LOGS/$name.log:" >&2
      tail -n 30 "$LOGS/$name.log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "$name: ERROR: not ready after 30s; see $LOGS/$name.log" >&2
  exit 1
}

start() {
  for name in "${SERVICES[@]}"; do
    "$PY" -m "hallway_$name" migrate >>"$LOGS/$name.log" 2>&1 || {
      echo "$name: ERROR: migration failed; last lines of $LOGS/$name.log:" >&2
      tail -n 20 "$LOGS/$name.log" >&2
      exit 1
    }
  done
  for name in "${SERVICES[@]}"; do launch "$name"; done
  for name in "${SERVICES[@]}"; do wait_ready "$name" --grpc "127.0.0.1:${GRPC[$name]}"; done
  launch gateway
  wait_ready gateway --http "http://127.0.0.1:$HTTP_PORT/readyz"
  if [[ ${NO_SEED:-0} != 1 ]]; then
    "$PY" "$REPO/scripts/dev/seed.py"
  fi
  cat <<MSG

Hallway is running:  http://127.0.0.1:$HTTP_PORT/   (sign in as any seeded handle, e.g. ada)
API + OpenAPI:       http://127.0.0.1:$HTTP_PORT/api/v1/openapi.json
Bearer token:        make token HANDLE=ada
Logs:                $LOGS/<service>.log        Stop: make down
MSG
}

stop() {
  for name in gateway "${SERVICES[@]}"; do
    if alive "$name"; then
      kill -TERM "$(cat "$RUN/$name.pid")" 2>/dev/null || true
    fi
  done
  for name in gateway "${SERVICES[@]}"; do
    for _ in $(seq 1 100); do alive "$name" || break; sleep 0.1; done
    if alive "$name"; then kill -KILL "$(cat "$RUN/$name.pid")" 2>/dev/null || true; fi
    rm -f "$RUN/$name.pid"
  done
  echo "services: stopped"
}

status() {
  for name in "${SERVICES[@]}" gateway; do
    if alive "$name"; then echo "$name: running (pid $(cat "$RUN/$name.pid"))"; else echo "$name: down"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
