#!/usr/bin/env bash
# Apache ActiveMQ Classic from Debian with one STOMP connector on loopback, off stompede's port:
#   STOMP 127.0.0.1:${ACTIVEMQ_STOMP_PORT:-61623}   anonymous; KahaDB store; TCP_NODELAY on
#   (ActiveMQ leaves Nagle on by default, which adds ~40 ms to every round trip).
# Usage: interop/peers/activemq.sh start|stop|status   (start is idempotent)
# Environment: ACTIVEMQ_STOMP_PORT, ACTIVEMQ_INSTANCE_DIR (a second, separate broker: its own
#   config, KahaDB and log), ACTIVEMQ_HEAP (JVM -Xms/-Xmx, default 2G).
#
# Memory and store limits, as an operator who wants millions of persistent messages queued would
# set them (upstream's conf/activemq.xml has the same systemUsage shape): a 2 GiB heap, and the
# broker's message memory (memoryUsage) at 70% of it. Without a systemUsage element, ActiveMQ
# 5.17 takes a 1 GiB memoryUsage limit and lowers it to 70% of the heap only when the heap is
# smaller; with Debian's -Xmx1G the limit was the whole heap, and the store cursor, which caches
# queued persistent messages (~2 KiB of heap per 1 KiB STOMP message) until 70% of that limit,
# could fill most of the heap: a fill of 1,000,000 messages stalled at 276,000
# (bench/results/durable.md tells the whole story).
# storeUsage/tempUsage fit this disk (the defaults, 100 GB and 50 GB, are more than it has free).
# KahaDB keeps its defaults: journal fsync on every write batch (enableJournalDiskSyncs).
# Queues left empty and unused for 5 minutes are deleted (gcInactiveDestinations, checked every
# minute), so that the thousands of one-off queues the test suites create do not pile up in
# KahaDB, holding heap and slowing starts.
# Logs: $BASE/data/activemq.log (log4j 1.2 config below); warnings also in $BASE/activemq.log.
set -euo pipefail
. "$(dirname "$0")/common.sh"
STOMP_PORT=${ACTIVEMQ_STOMP_PORT:-61623}
BASE=${ACTIVEMQ_INSTANCE_DIR:-/var/lib/stompede-peers/activemq}
HEAP=${ACTIVEMQ_HEAP:-2G}

write_config() {
  mkdir -p "$BASE/conf" "$BASE/data" "$BASE/tmp"
  # Debian's ActiveMQ logs through log4j 1.2 (slf4j-log4j12), which reads log4j.properties, not the
  # log4j2.properties its instance template ships: without this file the broker logs nothing.
  cat >"$BASE/conf/log4j.properties" <<PROPS
log4j.rootLogger=INFO, console, logfile
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.threshold=WARN
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
log4j.appender.logfile=org.apache.log4j.RollingFileAppender
log4j.appender.logfile.file=$BASE/data/activemq.log
log4j.appender.logfile.maxFileSize=1MB
log4j.appender.logfile.maxBackupIndex=5
log4j.appender.logfile.append=true
log4j.appender.logfile.layout=org.apache.log4j.PatternLayout
log4j.appender.logfile.layout.ConversionPattern=%d | %-5p | %m | %c | %t%n
PROPS
  cat >"$BASE/conf/activemq.xml" <<XML
<beans xmlns="http://www.springframework.org/schema/beans"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.springframework.org/schema/beans http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
  http://activemq.apache.org/schema/core http://activemq.apache.org/schema/core/activemq-core.xsd">
  <bean class="org.springframework.beans.factory.config.PropertyPlaceholderConfigurer"/>
  <broker xmlns="http://activemq.apache.org/schema/core" brokerName="stompede-peer" useJmx="false"
          schedulerSupport="false" schedulePeriodForDestinationPurge="60000" dataDirectory="$BASE/data">
    <destinationPolicy>
      <policyMap><policyEntries>
        <policyEntry queue="&gt;" gcInactiveDestinations="true" inactiveTimoutBeforeGC="300000"/>
      </policyEntries></policyMap>
    </destinationPolicy>
    <persistenceAdapter><kahaDB directory="$BASE/data/kahadb"/></persistenceAdapter>
    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage percentOfJvmHeap="70"/></memoryUsage>
        <storeUsage><storeUsage limit="40 gb"/></storeUsage>
        <tempUsage><tempUsage limit="10 gb"/></tempUsage>
      </systemUsage>
    </systemUsage>
    <transportConnectors>
      <transportConnector name="stomp"
        uri="stomp+nio://127.0.0.1:${STOMP_PORT}?transport.tcpNoDelay=true&amp;transport.closeAsync=false"/>
    </transportConnectors>
  </broker>
</beans>
XML
}

# The broker's JVM, when the pid file names a live ActiveMQ process (not a reused pid).
broker_pid() {
  local pid
  pid=$(cat "$BASE/activemq.pid" 2>/dev/null) || return 1
  grep -qs activemq.jar "/proc/$pid/cmdline" && echo "$pid"
}

# alive PID: the process exists and is not a zombie.
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]
}

start() {
  apt_install activemq
  write_config
  if port_open 127.0.0.1 "$STOMP_PORT"; then
    echo "activemq: already running (STOMP 127.0.0.1:$STOMP_PORT)"
    return 0
  fi
  nohup java -Xms"$HEAP" -Xmx"$HEAP" -Dactivemq.home=/usr/share/activemq -Dactivemq.base="$BASE" \
    -Dactivemq.conf="$BASE/conf" -Dactivemq.data="$BASE/data" -Djava.io.tmpdir="$BASE/tmp" \
    -Dlog4j.configuration="file:$BASE/conf/log4j.properties" \
    -jar /usr/share/activemq/bin/activemq.jar start "xbean:file:$BASE/conf/activemq.xml" \
    >"$BASE/activemq.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$BASE/activemq.pid"
  # KahaDB replays its journal before the connector opens: seconds after a clean stop, longer
  # after a crash with a large store, so wait up to 15 minutes (saying so every minute).
  local i
  for ((i = 1; i <= 900; i++)); do
    port_open 127.0.0.1 "$STOMP_PORT" && break
    if ! alive "$pid"; then
      echo "activemq: the broker exited while starting; see $BASE/data/activemq.log" >&2
      exit 1
    fi
    ((i % 60 == 0)) && echo "activemq: still starting after ${i}s (KahaDB recovery)" >&2
    sleep 1
  done
  port_open 127.0.0.1 "$STOMP_PORT" || {
    echo "activemq: STOMP port $STOMP_PORT did not open in 15 minutes; see $BASE/data/activemq.log" >&2
    exit 1
  }
  echo "activemq: STOMP 127.0.0.1:$STOMP_PORT"
}

# A clean stop: SIGTERM, then wait for the JVM to exit (its shutdown hook closes KahaDB after the
# connector, so a closed port does not mean the store is closed; starting again before it is
# would find the store locked). Waits up to 10 minutes, then kills it (an unclean stop, said so).
stop() {
  local pid i
  pid=$(broker_pid) || return 0
  kill "$pid" 2>/dev/null || return 0
  for ((i = 1; i <= 6000; i++)); do
    alive "$pid" || return 0
    ((i % 600 == 0)) && echo "activemq: still stopping after $((i / 10))s" >&2
    sleep 0.1
  done
  echo "activemq: did not stop in 10 minutes; killing it (KahaDB will recover on start)" >&2
  kill -9 "$pid" 2>/dev/null || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open 127.0.0.1 "$STOMP_PORT"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
