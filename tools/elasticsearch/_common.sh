# Shared settings for tools/elasticsearch/{start,stop,wipe}. Sourced, not executed.
# shellcheck shell=bash

ES_TOOL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ES_STATE_DIR="${TRENDCART_ES_HOME:-$ES_TOOL_DIR/.state}"
ES_PORT="${TRENDCART_ES_PORT:-9200}"
ES_DATA_DIR="${TRENDCART_ES_DATA:-$ES_STATE_DIR/data}"
ES_PID_FILE="$ES_STATE_DIR/node.pid"
ES_PORT_FILE="$ES_STATE_DIR/node.port"
ES_LOG_FILE="$ES_STATE_DIR/node.log"
ES_MAIN_CLASS="dev.trendcart.es.LocalNode"

es_log() { echo "trendcart-es: $*" >&2; }

# Prints the pid if the node recorded in the pid file is alive and really is our node.
es_running_pid() {
  [[ -f "$ES_PID_FILE" ]] || return 1
  local pid
  pid="$(tr -dc '0-9' < "$ES_PID_FILE")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "$ES_MAIN_CLASS" || return 1
  fi
  echo "$pid"
}

# True if something accepts TCP connections on 127.0.0.1:$1.
es_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

es_stop() {
  local pid
  if ! pid="$(es_running_pid)"; then
    rm -f "$ES_PID_FILE"
    return 0
  fi
  local port
  port="$(cat "$ES_PORT_FILE" 2>/dev/null || echo "$ES_PORT")"
  es_log "stopping node (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local timeout="${TRENDCART_ES_STOP_TIMEOUT:-30}" waited=0
  while kill -0 "$pid" 2>/dev/null && (( waited < timeout * 10 )); do
    sleep 0.1; waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    es_log "node did not stop within ${timeout}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$ES_PID_FILE" "$ES_PORT_FILE"
  # the process is gone, so its sockets are closed; this only guards against a slow kernel
  waited=0
  while es_port_busy "$port" && (( waited < 50 )); do sleep 0.1; waited=$((waited + 1)); done
  if es_port_busy "$port"; then
    es_log "warning: port $port is still in use by another process"
  fi
  es_log "stopped"
}
