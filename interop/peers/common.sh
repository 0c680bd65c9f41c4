# Shared helpers for the peer scripts (sourced, not run).

# port_open HOST PORT: true when something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for_port HOST PORT SECONDS: poll once a second until the port opens or time runs out.
wait_for_port() {
  local i
  for ((i = 0; i < $3; i++)); do
    port_open "$1" "$2" && return 0
    sleep 1
  done
  return 1
}

# apt_install PACKAGE...: install Debian packages that are missing (needs root).
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$(basename "$0"): installing ${missing[*]} needs root" >&2
    return 2
  fi
  if [ ! -f /tmp/.stompede-apt-updated ]; then
    apt-get update -qq >/dev/null && touch /tmp/.stompede-apt-updated
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
