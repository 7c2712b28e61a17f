#!/usr/bin/env bash
# Runs the Hallway services and gateway on the local stack (background processes,
# logs in .local/logs, pids in .local/run).
#   run.sh start | stop | status | restart [component...]
# Ports come from the service catalogue (python -m hallway_common.catalogue --shell), the
# same defaults the processes use; HALLWAY_HTTP_PORT still moves the gateway.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="$REPO/.local"
PY="$STATE/venv/bin/python"
LOGS="$STATE/logs"
RUN="$STATE/run"
mkdir -p "$LOGS" "$RUN"
# CATALOGUE_GRPC_SERVICES, CATALOGUE_GRPC_PORT[name], CATALOGUE_HTTP_PORT[gateway], ...
CATALOGUE="$("$PY" -m hallway_common.catalogue --shell)" || {
  echo "run.sh: cannot read the service catalogue (make venv?)" >&2
  exit 1
}
eval "$CATALOGUE"
SERVICES=("${CATALOGUE_GRPC_SERVICES[@]}")
HTTP_PORT="${HALLWAY_HTTP_PORT:-${CATALOGUE_HTTP_PORT[gateway]}}"
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
  local port=${CATALOGUE_GRPC_PORT[$name]:-$HTTP_PORT}
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
  for name in "${SERVICES[@]}"; do wait_ready "$name" --grpc "127.0.0.1:${CATALOGUE_GRPC_PORT[$name]}"; done
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

stop_these() { # names...: SIGTERM, up to 10 s to drain, then SIGKILL
  for name in "$@"; do
    if alive "$name"; then
      kill -TERM "$(cat "$RUN/$name.pid")" 2>/dev/null || true
    fi
  done
  for name in "$@"; do
    for _ in $(seq 1 100); do alive "$name" || break; sleep 0.1; done
    if alive "$name"; then kill -KILL "$(cat "$RUN/$name.pid")" 2>/dev/null || true; fi
    rm -f "$RUN/$name.pid"
  done
}

stop() {
  stop_these gateway "${SERVICES[@]}"
  echo "services: stopped"
}

restart() { # [names...]: stop and start again (all when none is named), no migration or seed
  local -a names=("$@")
  [[ ${#names[@]} -gt 0 ]] || names=("${SERVICES[@]}" gateway)
  for name in "${names[@]}"; do
    [[ " ${CATALOGUE_SERVICES[*]} " == *" $name "* ]] || {
      echo "run.sh: unknown component $name (one of: ${CATALOGUE_SERVICES[*]})" >&2
      exit 2
    }
  done
  stop_these "${names[@]}"
  for name in "${names[@]}"; do
    launch "$name"
    if [[ $name == gateway ]]; then
      wait_ready gateway --http "http://127.0.0.1:$HTTP_PORT/readyz"
    else
      wait_ready "$name" --grpc "127.0.0.1:${CATALOGUE_GRPC_PORT[$name]}"
    fi
  done
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
  restart) shift; restart "$@" ;;
  *) echo "usage: $0 start|stop|status|restart [component...]" >&2; exit 2 ;;
esac
