#!/usr/bin/env bash
# Apache ActiveMQ Classic from Debian with one STOMP connector on loopback, off stompede's port:
#   STOMP 127.0.0.1:${ACTIVEMQ_STOMP_PORT:-61623}   anonymous; KahaDB store; TCP_NODELAY on
#   (ActiveMQ leaves Nagle on by default, which adds ~40 ms to every round trip).
# Usage: interop/peers/activemq.sh start|stop|status   (start is idempotent)
set -euo pipefail
. "$(dirname "$0")/common.sh"
STOMP_PORT=${ACTIVEMQ_STOMP_PORT:-61623}
BASE=${ACTIVEMQ_INSTANCE_DIR:-/var/lib/stompede-peers/activemq}

write_config() {
  mkdir -p "$BASE/conf" "$BASE/data" "$BASE/tmp"
  cp /etc/activemq/instances-available/main/log4j2.properties "$BASE/conf/" 2>/dev/null || true
  cat >"$BASE/conf/activemq.xml" <<XML
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="stompede-peer" useJmx="false"
          schedulerSupport="false" dataDirectory="$BASE/data">
    <persistenceAdapter><kahaDB directory="$BASE/data/kahadb"/></persistenceAdapter>
    <transportConnectors>
      <transportConnector name="stomp"
        uri="stomp+nio://127.0.0.1:${STOMP_PORT}?transport.tcpNoDelay=true&amp;transport.closeAsync=false"/>
    </transportConnectors>
  </broker>
</beans>
XML
}

start() {
  apt_install activemq
  write_config
  if port_open 127.0.0.1 "$STOMP_PORT"; then
    echo "activemq: already running (STOMP 127.0.0.1:$STOMP_PORT)"
    return 0
  fi
  nohup java -Xms256M -Xmx1G -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$BASE" \
    -Dactivemq.conf="$BASE/conf" -Dactivemq.data="$BASE/data" -Djava.io.tmpdir="$BASE/tmp" \
    -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$BASE/conf/activemq.xml" \
    >"$BASE/activemq.log" 2>&1 &
  echo $! >"$BASE/activemq.pid"
  wait_for_port 127.0.0.1 "$STOMP_PORT" 120 || {
    echo "activemq: STOMP port $STOMP_PORT did not open; see $BASE/activemq.log" >&2
    exit 1
  }
  echo "activemq: STOMP 127.0.0.1:$STOMP_PORT"
}

stop() {
  [ -f "$BASE/activemq.pid" ] && kill "$(cat "$BASE/activemq.pid")" 2>/dev/null || true
  local i
  for ((i = 0; i < 30; i++)); do port_open 127.0.0.1 "$STOMP_PORT" || return 0; sleep 1; done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open 127.0.0.1 "$STOMP_PORT"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
