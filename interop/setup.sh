#!/usr/bin/env bash
# Installs the interop drivers that come from PyPI, Maven Central and the Go module proxy (the
# Debian and npm ones are installed by .ci/run and `npm ci`). Idempotent; each step says what it
# did and how long it took. Caches are the tools' own, per machine: ~/.cache/pip, ~/.m2,
# $(go env GOMODCACHE).
# Usage: interop/setup.sh [all|python|java|go]...   (default all)
#   python  interop/.venv from Debian's /usr/bin/python3 (package python3-venv) with
#           interop/requirements.txt (stompest)
#   java    interop/java with Maven: Spring's STOMP clients and broker-relay application, the
#           Vert.x STOMP client and server, embedded ActiveMQ Classic 6; each module writes
#           target/classpath.txt, which run.mjs reads
#   go      interop/go: the go-stomp and stompngo drivers, built into interop/go/bin
set -euo pipefail
cd "$(dirname "$0")"
. peers/common.sh

step() {
  local name=$1 started=$SECONDS
  shift
  echo "setup: $name ..."
  "$@"
  echo "setup: $name done in $((SECONDS - started)) s"
}

python_step() {
  apt_install python3-venv
  [ -x .venv/bin/python ] || /usr/bin/python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
}

java_step() {
  mvn -B -q -Dstyle.color=never -f java/pom.xml package -DskipTests
}

go_step() {
  (cd go && go build -o bin/ ./...)
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    all) step python python_step; step java java_step; step go go_step ;;
    python) step python python_step ;;
    java) step java java_step ;;
    go) step go go_step ;;
    *) echo "usage: $0 [all|python|java|go]..." >&2; exit 2 ;;
  esac
done
