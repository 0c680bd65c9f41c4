#!/usr/bin/env bash
# Apache ActiveMQ Artemis (Maven Central org.apache.activemq:apache-artemis, bin distribution)
# with one acceptor on loopback, off stompede's port:
#   STOMP + STOMP over WebSocket  127.0.0.1:${ARTEMIS_STOMP_PORT:-61653} (ws://…/stomp)
#   user  guest / guest (login required), destinations /queue/* anycast, /topic/* multicast
# Usage: interop/peers/artemis.sh start|stop|status   (start is idempotent)
# Environment: ARTEMIS_STOMP_PORT, ARTEMIS_VERSION (default 2.40.0, the newest bin served),
#   ARTEMIS_BASE (default /var/lib/stompede-peers/artemis: the distribution and the instance),
#   ARTEMIS_HEAP (JVM -Xms/-Xmx, default 2G as for ActiveMQ).
# The distribution is fetched once with `mvn dependency:copy` (~/.m2 caches it) and unpacked
# under $BASE; `artemis create` makes the instance (no web console, no AMQP/MQTT/HornetQ/Core
# acceptors); its broker.xml acceptors are replaced by the one STOMP acceptor above.
set -euo pipefail
. "$(dirname "$0")/common.sh"
STOMP_PORT=${ARTEMIS_STOMP_PORT:-61653}
VERSION=${ARTEMIS_VERSION:-2.40.0}
BASE=${ARTEMIS_BASE:-/var/lib/stompede-peers/artemis}
HEAP=${ARTEMIS_HEAP:-2G}
HOME_DIR=$BASE/apache-artemis-$VERSION
INSTANCE=$BASE/instance-$VERSION

install_dist() {
  [ -x "$HOME_DIR/bin/artemis" ] && return 0
  mkdir -p "$BASE/dist"
  mvn -B -q -Dstyle.color=never dependency:copy "-Dartifact=org.apache.activemq:apache-artemis:$VERSION:tar.gz:bin" \
    "-DoutputDirectory=$BASE/dist" >&2
  tar xzf "$BASE/dist/apache-artemis-$VERSION-bin.tar.gz" -C "$BASE"
}

create_instance() {
  [ -f "$INSTANCE/etc/broker.xml" ] && return 0
  "$HOME_DIR/bin/artemis" create "$INSTANCE" --silent --force --name stompede-peer \
    --user guest --password guest --require-login --host 127.0.0.1 --no-web \
    --no-amqp-acceptor --no-mqtt-acceptor --no-hornetq-acceptor --no-stomp-acceptor \
    --java-memory "$HEAP" >"$BASE/create.log" 2>&1
  # One STOMP acceptor (WebSocket upgrades are detected on it too). The prefixes give /queue/
  # and /topic/ their usual anycast/multicast meaning; tcpNoDelay as for ActiveMQ.
  local acceptor="tcp://127.0.0.1:${STOMP_PORT}?protocols=STOMP;tcpNoDelay=true;anycastPrefix=/queue/;multicastPrefix=/topic/"
  python3 - "$INSTANCE/etc/broker.xml" "$acceptor" <<'PY'
import re, sys
path, uri = sys.argv[1], sys.argv[2].replace("&", "&amp;")
xml = open(path).read()
xml, n = re.subn(r"<acceptors>.*?</acceptors>",
                 '<acceptors>\n         <acceptor name="stomp">%s</acceptor>\n      </acceptors>' % uri,
                 xml, count=1, flags=re.S)
if n != 1:
    sys.exit("artemis.sh: no <acceptors> in " + path)
open(path, "w").write(xml)
PY
}

broker_pid() {
  local pid
  pid=$(cat "$BASE/artemis.pid" 2>/dev/null) || return 1
  grep -qs "artemis" "/proc/$pid/cmdline" && echo "$pid"
}

start() {
  if port_open 127.0.0.1 "$STOMP_PORT"; then
    echo "artemis: already running (STOMP 127.0.0.1:$STOMP_PORT)"
    return 0
  fi
  install_dist
  create_instance
  nohup "$INSTANCE/bin/artemis" run >"$BASE/artemis.log" 2>&1 &
  echo $! >"$BASE/artemis.pid"
  local pid=$! i
  for ((i = 1; i <= 180; i++)); do
    port_open 127.0.0.1 "$STOMP_PORT" && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "artemis: the broker exited while starting; see $BASE/artemis.log" >&2
      tail -20 "$BASE/artemis.log" >&2
      exit 1
    fi
    sleep 1
  done
  port_open 127.0.0.1 "$STOMP_PORT" || {
    echo "artemis: STOMP port $STOMP_PORT did not open in 3 minutes; see $BASE/artemis.log" >&2
    exit 1
  }
  echo "artemis $VERSION: STOMP 127.0.0.1:$STOMP_PORT, ws://127.0.0.1:$STOMP_PORT/stomp"
}

stop() {
  local pid i
  pid=$(broker_pid) || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open 127.0.0.1 "$STOMP_PORT"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
