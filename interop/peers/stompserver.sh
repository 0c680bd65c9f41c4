#!/usr/bin/env bash
# The Ruby stompserver 0.9.9 from Debian (package `stompserver`), a STOMP 1.0 broker, on loopback:
#   STOMP 127.0.0.1:${STOMPSERVER_PORT:-61643}   anonymous, in-memory queues
# Debian's /usr/bin/stompserver dies on the first connection under Ruby 3 ("class variable access
# from toplevel"), so the same server is launched by stompserver-launch.rb (see there).
# Usage: interop/peers/stompserver.sh start|stop|status   (start is idempotent)
set -euo pipefail
. "$(dirname "$0")/common.sh"
PORT=${STOMPSERVER_PORT:-61643}
BASE=${STOMPSERVER_DIR:-/var/lib/stompede-peers/stompserver}
LAUNCH="$(cd "$(dirname "$0")" && pwd)/stompserver-launch.rb"

start() {
  apt_install stompserver
  if port_open 127.0.0.1 "$PORT"; then
    echo "stompserver: already running (STOMP 127.0.0.1:$PORT)"
    return 0
  fi
  mkdir -p "$BASE/work"
  # The whole subshell goes to the background with its output redirected and becomes the server
  # (exec): a subshell left waiting with the caller's stdout would keep run.mjs's pipe open, and
  # `start` would never seem to finish.
  (cd "$BASE/work" && exec nohup /usr/bin/ruby "$LAUNCH" -p "$PORT" -b 127.0.0.1 -q memory \
    -w "$BASE/work" >"$BASE/stompserver.log" 2>&1 </dev/null) &
  echo $! >"$BASE/stompserver.pid"
  wait_for_port 127.0.0.1 "$PORT" 30 || {
    echo "stompserver: port $PORT did not open; see $BASE/stompserver.log" >&2
    exit 1
  }
  echo "stompserver: STOMP 127.0.0.1:$PORT"
}

stop() {
  [ -f "$BASE/stompserver.pid" ] && kill "$(cat "$BASE/stompserver.pid")" 2>/dev/null || true
  local i
  for ((i = 0; i < 30; i++)); do port_open 127.0.0.1 "$PORT" || return 0; sleep 1; done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open 127.0.0.1 "$PORT"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
