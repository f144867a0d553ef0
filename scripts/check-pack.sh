#!/usr/bin/env bash
# The package must install from `npm pack` into an empty folder and run there as `npx sshmux`.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
tarball=$(npm pack --silent --pack-destination "$dir" | tail -n 1)
cd "$dir"
npm init -y >/dev/null
# A consumer approves ssh2's native build the same way this project does (npm 11 allowScripts).
npm pkg set allowScripts.ssh2=true allowScripts.cpu-features=true
npm install --no-audit --no-fund "./$tarball" >/dev/null
out=$(npx --no-install sshmux --version -v)
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^sshmux ' || { echo "check-pack: npx sshmux --version printed nothing useful" >&2; exit 1; }
npx --no-install sshmux --help >/dev/null
# The library must load in plain Node, not only under the test runner's CommonJS interop.
node --input-type=module -e "await import('sshmux')"
echo "check-pack: ok ($tarball)"
