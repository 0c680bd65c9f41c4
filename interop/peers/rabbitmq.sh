#!/usr/bin/env bash
# RabbitMQ from Debian with the STOMP and Web-STOMP plugins, listening on loopback only and off
# stompede's own default ports, so both can run side by side:
#   STOMP      127.0.0.1:${RABBITMQ_STOMP_PORT:-61633}
#   Web-STOMP  ws://127.0.0.1:${RABBITMQ_WS_PORT:-15683}/ws
#   user       guest / guest, virtual host "/"
# Usage: interop/peers/rabbitmq.sh start|stop|status   (start is idempotent)
set -euo pipefail
. "$(dirname "$0")/common.sh"
STOMP_PORT=${RABBITMQ_STOMP_PORT:-61633}
WS_PORT=${RABBITMQ_WS_PORT:-15683}
AMQP_PORT=${RABBITMQ_AMQP_PORT:-5672}

write_config() {
  mkdir -p /etc/rabbitmq
  cat >/etc/rabbitmq/rabbitmq.conf <<CONF
listeners.tcp.default = 127.0.0.1:${AMQP_PORT}
stomp.listeners.tcp.1 = 127.0.0.1:${STOMP_PORT}
web_stomp.tcp.ip = 127.0.0.1
web_stomp.tcp.port = ${WS_PORT}
# Binary WebSocket frames: with the default (text), a body that is not UTF-8 goes out in a text
# frame, which RFC 6455 forbids and browsers and ws reject.
web_stomp.ws_frame = binary
loopback_users = none
CONF
  echo '[rabbitmq_stomp,rabbitmq_web_stomp].' >/etc/rabbitmq/enabled_plugins
}

start() {
  apt_install rabbitmq-server
  write_config
  if port_open 127.0.0.1 "$STOMP_PORT"; then
    echo "rabbitmq: already running (STOMP 127.0.0.1:$STOMP_PORT)"
    return 0
  fi
  export ERL_EPMD_ADDRESS=127.0.0.1
  # The default 1024 open files would cap RabbitMQ at a few hundred sockets.
  ulimit -n 65536 2>/dev/null || true
  if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    # Start as the rabbitmq user without su, whose PAM session would reset the file limit.
    (cd /var/lib/rabbitmq && HOME=/var/lib/rabbitmq setpriv --reuid=rabbitmq --regid=rabbitmq \
      --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server -detached >/dev/null 2>&1) || true
  else
    rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  wait_for_port 127.0.0.1 "$STOMP_PORT" 120 || {
    echo "rabbitmq: STOMP port $STOMP_PORT did not open (see /var/log/rabbitmq)" >&2
    exit 1
  }
  wait_for_port 127.0.0.1 "$WS_PORT" 30 || true
  echo "rabbitmq: STOMP 127.0.0.1:$STOMP_PORT, Web-STOMP ws://127.0.0.1:$WS_PORT/ws"
}

stop() {
  rabbitmqctl stop >/dev/null 2>&1 || true
  local i
  for ((i = 0; i < 30; i++)); do port_open 127.0.0.1 "$STOMP_PORT" || return 0; sleep 1; done
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if port_open 127.0.0.1 "$STOMP_PORT"; then echo running; else echo stopped; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
