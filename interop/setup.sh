#!/usr/bin/env bash
# Installs the interop drivers that come from PyPI, Maven Central and the Go module proxy (the
# Debian and npm ones are installed by .ci/run and `npm ci`). Idempotent; each step says what it
# did and how long it took. Caches are the tools' own, per machine: ~/.cache/pip, ~/.m2,
# $(go env GOMODCACHE), and for Stompy's sdist $STOMPEDE_INTEROP_CACHE (default
# ~/.cache/stompede-interop).
# Usage: interop/setup.sh [all|python|java|go|stompy]...   (default all)
#   python  interop/.venv from Debian's /usr/bin/python3 (package python3-venv) with
#           interop/requirements.txt (stompest)
#   java    interop/java with Maven: Spring's STOMP clients and broker-relay application, the
#           Vert.x STOMP client and server, embedded ActiveMQ Classic 6; each module writes
#           target/classpath.txt, which run.mjs reads
#   go      interop/go: the go-stomp and stompngo drivers, built into interop/go/bin
#   stompy  Jython 2.7.4 from Maven Central (interop/java/jython, target/jython-standalone.jar)
#           and Stompy 0.2.9's sdist from PyPI (sha256 checked, cached), unpacked into
#           interop/.stompy: Stompy is Python 2 only, so its driver runs on Jython
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

# Stompy 0.2.9 (2010): the sdist PyPI's simple index lists, pinned by its sha256. Not through
# pip: pip builds an sdist's metadata with setup.py, which is Python 2 (a SyntaxError on 3).
STOMPY_URL=https://files.pythonhosted.org/packages/af/21/8f3bdf1f304ba65847706c29d1950525513ec11d941ed0630ee8af51b361/stompy-0.2.9.tar.gz
STOMPY_SHA256=6f0c5098b7669f8943148992121180ddb72ccb5f76ab4a7f81c73df08aa738e4

stompy_step() {
  mvn -B -q -Dstyle.color=never -f java/jython/pom.xml package
  local cache=${STOMPEDE_INTEROP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stompede-interop}
  local sdist=$cache/stompy-0.2.9.tar.gz
  if ! echo "$STOMPY_SHA256  $sdist" | sha256sum --check --status 2>/dev/null; then
    mkdir -p "$cache"
    echo "setup: fetching $STOMPY_URL"
    curl -fsSL --retry 3 -o "$sdist.part" "$STOMPY_URL"
    if ! echo "$STOMPY_SHA256  $sdist.part" | sha256sum --check --status; then
      echo "setup: $STOMPY_URL does not have sha256 $STOMPY_SHA256" >&2
      rm -f "$sdist.part"
      return 1
    fi
    mv "$sdist.part" "$sdist"
  fi
  # Unpacked afresh from the checked sdist (Jython writes compiled *$py.class files beside it).
  rm -rf .stompy
  mkdir -p .stompy
  tar -xzf "$sdist" -C .stompy --no-same-owner
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for t in "${targets[@]}"; do
  case "$t" in
    all) step python python_step; step java java_step; step go go_step; step stompy stompy_step ;;
    python) step python python_step ;;
    java) step java java_step ;;
    go) step go go_step ;;
    stompy) step stompy stompy_step ;;
    *) echo "usage: $0 [all|python|java|go|stompy]..." >&2; exit 2 ;;
  esac
done
