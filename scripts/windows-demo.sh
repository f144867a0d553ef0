#!/usr/bin/env bash
# `npm run demo`'s embedded-server path under Windows node.exe (Wine), for the Windows tier:
# issue 19 promises the demo works on Windows. The demo's TypeScript is compiled by tsc into a
# scratch dir (Linux side) next to links to the built dist/ and node_modules, so node.exe runs
# plain JS and needs no win32 build of tsx's esbuild. The Docker engine is hidden, as a Windows
# machine without Docker has none. Fails unless the demo exits 0 having printed every step.
#
# Usage: bash scripts/windows-demo.sh   (after npm run build)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
export WINEDEBUG=-all
log() { echo "windows-demo: $*" >&2; }

if [ -z "${SSHMUX_WIN_NODE_EXE:-}" ] || [ -z "${SSHMUX_WIN_WINEPREFIX:-}" ]; then
  setup=$(bash "$repo/scripts/setup-windows.sh")
  eval "$(grep '^SSHMUX_WIN_' <<<"$setup")"
fi
export WINEPREFIX=$SSHMUX_WIN_WINEPREFIX
[ -f "$repo/dist/index.js" ] && [ -f "$repo/dist/cli/sshmux.cjs" ] || { log "no dist/: run npm run build first"; exit 1; }

start=$SECONDS
work=$(mktemp -d /tmp/sshmux-windows-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/tsconfig.json" <<JSON
{
  "extends": "$repo/tsconfig.json",
  "compilerOptions": { "outDir": "$work", "rootDir": "$repo", "declaration": false, "sourceMap": false, "noEmit": false,
    "typeRoots": ["$repo/node_modules/@types"], "noCheck": true },
  "include": [],
  "files": ["$repo/scripts/demo.ts"]
}
JSON
"$repo/node_modules/.bin/tsc" -p "$work/tsconfig.json"
# The compiled demo finds the package as ../dist and its dependencies as ./node_modules.
echo '{"type":"module"}' >"$work/package.json"
ln -s "$repo/dist" "$work/dist"
ln -s "$(readlink -f "$repo/node_modules")" "$work/node_modules"
log "demo compiled in $((SECONDS - start))s"

# Wine cannot give node.exe a Unix pipe as stdio (EBADF): files in, files out.
: >"$work/.stdin"
status=0
run_start=$SECONDS
(cd "$work" && DOCKER_HOST=unix:///nonexistent SSH_AUTH_SOCK= \
  wine "$SSHMUX_WIN_NODE_EXE" scripts/demo.js <"$work/.stdin" >"$work/.out" 2>"$work/.err") || status=$?
tr -d '\r' <"$work/.out" >"$work/out"
cat "$work/out"
tr -d '\r' <"$work/.err" >&2
log "the demo under $(basename "$SSHMUX_WIN_NODE_EXE") exited $status after $((SECONDS - run_start))s"
[ "$status" -eq 0 ] || exit "$status"
# Its summary: each step's line, from the embedded server (not a Docker engine) on win32.
missing=0
for want in 'using the embedded SSH server instead' 'commands run by cmd.exe' '^pool: ' \
  '^sshmux ssh in-process' '^sshmux ssh through the daemon: .* with 1 login' '^sshmux ssh -O check: Master running' \
  'with a Docker engine, `npm run demo` runs the same' '^demo: done$'; do
  if ! grep -q -- "$want" "$work/out"; then
    log "missing from its output: $want"
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 1
log "ok in $((SECONDS - start))s"
