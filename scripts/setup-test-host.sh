#!/usr/bin/env bash
# Prepare a Debian host to run sshmux's integration suite, demo and benchmarks.
# Idempotent: every step checks before it acts, so running it twice is harmless.
#   - Debian packages: docker.io, btrfs-progs, debootstrap, git, openssh-client, zstd, rsync
#   - a Docker engine (dockerd --bridge=none --iptables=false) when none answers
#   - the base image debian:bookworm-slim, pulled or else built locally with debootstrap
#     from the mirror the machine's own apt sources name (read here, never hard-coded)
set -euo pipefail

log() { printf 'setup-test-host: %s\n' "$*" >&2; }
need_root() { [ "$(id -u)" -eq 0 ] || { log "must run as root (apt, dockerd, loop devices)"; exit 1; }; }
need_root

BASE_IMAGE=${SSHMUX_BASE_IMAGE:-debian:bookworm-slim}
DOCKERD_LOG=${SSHMUX_DOCKERD_LOG:-/var/log/sshmux-dockerd.log}
PKGS=(docker.io btrfs-progs debootstrap git openssh-client zstd util-linux ca-certificates rsync tmux openssh-sftp-server ansible-core zsh fish pssh)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "packages already installed"
fi

# btrfs module: loop-mounted images need it; harmless when built in or already loaded.
modprobe btrfs 2>/dev/null || true

if docker info >/dev/null 2>&1; then
  log "docker engine already answering"
else
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid + nohup: the engine must outlive this script and the shell that ran it.
  setsid nohup dockerd --bridge=none --iptables=false >"$DOCKERD_LOG" 2>&1 < /dev/null &
  # Recorded so whoever asked for the engine (CI) can stop exactly what was started here.
  echo $! > "${SSHMUX_DOCKERD_PIDFILE:-/run/sshmux-dockerd.pid}"
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see $DOCKERD_LOG"; tail -20 "$DOCKERD_LOG" >&2; exit 1; }
fi

# The mirror the host's apt already uses: deb822 (*.sources) first, then one-line lists.
apt_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '/^URIs:/ {for (i=2;i<=NF;i++) if ($i !~ /security/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    uri=$(awk '$1=="deb" {for (i=2;i<=NF;i++) if ($i ~ /^(https?|file):/ && $i !~ /security/) {print $i; exit}}' "$f")
    [ -n "$uri" ] && { echo "$uri"; return; }
  done
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "base image $BASE_IMAGE present"
elif timeout 60 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
  log "pulled $BASE_IMAGE"
else
  mirror=$(apt_mirror)
  [ -n "$mirror" ] || { log "no apt mirror found in /etc/apt/sources*; cannot build $BASE_IMAGE"; exit 1; }
  log "building $BASE_IMAGE with debootstrap from the host's apt mirror"
  root=$(mktemp -d /var/tmp/sshmux-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
  # Point the image's apt at the same mirror so Dockerfile RUN apt-get works offline-of-registry.
  printf 'deb %s bookworm main\n' "$mirror" >"$root/etc/apt/sources.list"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
  rm -rf "$root"; trap - EXIT
  log "imported $BASE_IMAGE"
fi
log "ready"
