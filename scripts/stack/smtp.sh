#!/usr/bin/env bash
# SMTP sink on 127.0.0.1:1025 (scripts/stack/smtp_sink.py, aiosmtpd): real
# SMTP for email tests; every message lands as one .eml file in
# $STATE/data/smtp/new/ (see smtp_sink.py for the layout).
# usage: scripts/stack/smtp.sh fetch|start|stop|status|restart
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=smtp
HOST=127.0.0.1
PORT=1025
MAILDIR="$DATA/smtp"
LOG="$LOGS/smtp.log"
MARKER="$STACK_DIR/smtp_sink.py"

do_fetch() {
  # Nothing to download: aiosmtpd comes with the project venv (make venv).
  PYTHON="$(pick_python)" ||
    die "$NAME" "no python found: run 'make venv' (creates $REPO/.local/venv)"
  "$PYTHON" -c 'import aiosmtpd' 2>/dev/null ||
    die "$NAME" "$PYTHON has no aiosmtpd: run 'make venv' (or pip install aiosmtpd into it)"
}

ready() {
  tcp_banner "$HOST" "$PORT" 220 # the SMTP greeting, not just an open port
}

do_start() {
  local pid start
  if pid="$(our_pid "$NAME" "$MARKER")"; then
    if ready && owns_port "$pid" "$PORT"; then
      echo "$NAME: up on $HOST:$PORT (already running, pid $pid)"
      return 0
    fi
    start="$(now)"
    wait_ready "$NAME" "$pid" "$PORT" "$HALLWAY_STACK_TIMEOUT" ready "$LOG"
    echo "$NAME: up on $HOST:$PORT (was starting, ready after $(since "$start"))"
    return 0
  fi
  do_fetch
  need_free_port "$NAME" "$PORT"
  start="$(now)"
  # -u: unbuffered, so the log shows each stored message as it happens.
  launch "$NAME" "$LOG" "$PYTHON" -u "$MARKER" --host "$HOST" --port "$PORT" --dir "$MAILDIR"
  pid="$(cat "$(pidfile "$NAME")")"
  wait_ready "$NAME" "$pid" "$PORT" 30 ready "$LOG"
  echo "$NAME: up on $HOST:$PORT (started in $(since "$start"), pid $pid, mail in $MAILDIR/new)"
}

do_stop() { stop_ours "$NAME" "$MARKER" 10; }

do_status() {
  report_status "$NAME" "$(our_pid "$NAME" "$MARKER" || true)" "no SMTP greeting on $HOST:$PORT"
}

dispatch "$NAME" "$@"
