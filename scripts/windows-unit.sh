#!/usr/bin/env bash
# The unit suite under Windows node.exe (Wine), for the Windows tier. Exit status is vitest's.
#
# vitest's native helpers (rolldown, lightningcss, esbuild) load the build for the running
# platform, which the Linux install lacks: the win32 builds, at exactly package-lock.json's
# versions, are fetched with `npm pack` and added to a copy of node_modules under the Wine
# cache dir; the checkout is mirrored next to it. The Linux node_modules is never touched.
# A copy rather than symlinks: node's module resolution does not see Wine's symlinks as such
# but vite's resolver realpaths them, and two resolutions of one module make two vitests.
#
# Usage: bash scripts/windows-unit.sh [vitest arguments, e.g. test/unit/mux]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${SSHMUX_WIN_DIR:-/var/cache/sshmux-windows}
export WINEDEBUG=-all

log() { echo "windows-unit: $*" >&2; }

if [ -z "${SSHMUX_WIN_NODE_EXE:-}" ] || [ -z "${SSHMUX_WIN_WINEPREFIX:-}" ]; then
  setup=$(bash "$repo/scripts/setup-windows.sh")
  eval "$(grep '^SSHMUX_WIN_' <<<"$setup")"
fi
if [ ! -f "${SSHMUX_WIN_NODE_EXE:-}" ] || [ ! -d "${SSHMUX_WIN_WINEPREFIX:-}" ]; then
  log "no node.exe or Wine prefix: run scripts/setup-windows.sh as root"
  exit 1
fi
export WINEPREFIX=$SSHMUX_WIN_WINEPREFIX

# Wine 8 lacks bcryptprimitives.dll (Windows has it since 8.1): the Rust-built bindings import it
# and Go's runtime (esbuild.exe) loads it from system32. A forwarder to advapi32 stands in.
dll="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
[ -f "$dll" ] || node "$repo/scripts/wine-bcryptprimitives.mjs" "$dll"

# The platform packages vitest loads natively; each at the version of its Linux sibling in the lock.
win_packages=(@rolldown/binding-win32-x64-msvc lightningcss-win32-x64-msvc @esbuild/win32-x64)
lock_version() {
  node -e 'const l = require(process.argv[1]); const p = l.packages["node_modules/" + process.argv[2]];
    if (!p || !p.version) { console.error("not in package-lock.json: " + process.argv[2]); process.exit(1); }
    console.log(p.version)' "$repo/package-lock.json" "$1"
}

prepare_start=$SECONDS
# One mirror per checkout (several worktrees may run at once); node_modules rebuilt when the lock changes.
tree="$dir/unit/$(printf '%s' "$repo" | sha256sum | cut -c1-12)"
stamp=$( (cat "$repo/package-lock.json"; echo "${win_packages[*]}") | sha256sum | cut -c1-16)
mkdir -p "$tree"
if [ "$(cat "$tree/.node_modules-lock" 2>/dev/null || true)" != "$stamp" ]; then
  log "copying node_modules and adding the win32 builds (${win_packages[*]})"
  tmp=$(mktemp -d "$dir/unit/nm.XXXXXX")
  # vite's cache is per tree and written in place: never carried over.
  cp -a "$(readlink -f "$repo/node_modules")" "$tmp/node_modules"
  rm -rf "$tmp/node_modules/.vite" "$tmp/node_modules/.vitest"
  for pkg in "${win_packages[@]}"; do
    version=$(lock_version "$pkg")
    (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
    mkdir -p "$tmp/node_modules/$pkg"
    tar -xzf "$tmp"/*.tgz -C "$tmp/node_modules/$pkg" --strip-components=1
    rm -f "$tmp"/*.tgz
  done
  rm -rf "$tree/node_modules"
  mv "$tmp/node_modules" "$tree/node_modules"
  rmdir "$tmp"
  echo "$stamp" >"$tree/.node_modules-lock"
fi
rsync -a --delete --exclude /node_modules --exclude /.node_modules-lock --exclude /.git \
  --exclude /dist "$repo/" "$tree/"

log "tree ready in $((SECONDS - prepare_start))s"

# Wine cannot give node.exe a Unix pipe as stdio (EBADF): files in, files out, printed after.
out="$tree/.vitest-out"
err="$tree/.vitest-err"
: >"$tree/.stdin"
status=0
start=$SECONDS
# Two worker threads that keep their modules from one test file to the next: under Wine every
# node.exe a fork starts, and every module loaded again, costs seconds. Measured on 2 cores under
# load ~19: forks with vitest's one worker 927 s, isolated threads 386 s, these 90 s.
(cd "$tree" && wine "$SSHMUX_WIN_NODE_EXE" node_modules/vitest/vitest.mjs run --project unit \
  --pool=threads --maxWorkers=2 --no-isolate \
  --reporter=default --reporter=./test/helpers/windows-skip-reporter.ts "$@" \
  <"$tree/.stdin" >"$out" 2>"$err") || status=$?
tr -d '\r' <"$out"
tr -d '\r' <"$err" >&2
log "vitest under $(basename "$SSHMUX_WIN_NODE_EXE") exited $status after $((SECONDS - start))s"
exit "$status"
