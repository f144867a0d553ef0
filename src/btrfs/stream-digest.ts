import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BtrfsHost } from './host.js';

/** Which end of the stream a digest stage sits at: after `btrfs send`, or before `btrfs receive`. */
export type DigestRole = 'send' | 'receive';

const MARK = '@@sshmux-sha256';

/**
 * `sh -c DIGEST_SCRIPT sh send TOKEN argv...` runs argv (btrfs send) and
 * `sh -c DIGEST_SCRIPT sh receive TOKEN DIR NAME btrfs...` runs `btrfs... receive -q -e DIR`, each
 * with `tee` into a fifo read by `sha256sum`, on the host where the bytes are produced or
 * consumed, so the digest covers exactly the bytes btrfs wrote or read — not what zstd, SSH or
 * this process made of them. Exits with btrfs' status (POSIX sh has no pipefail, hence the
 * status file). When btrfs exits 0 the digest is printed on stderr after a marker and kept in
 * /tmp/sshmux-btrfs-TOKEN.ROLE.sha256, so that a run whose connection died after both ends
 * finished can still read it back and prove the transfer (takeDigestRecord).
 *
 * A receive that fails — the stream cut short because the client was SIGKILLed or its
 * connection died, or the stage was stopped — removes, right there and without the client, the
 * subvolume it made: DIR/NAME when it was absent before and still has no Received UUID (btrfs
 * sets that only at the end of a complete stream). So a rerun is not blocked by a partial.
 */
export const DIGEST_SCRIPT = [
  'r=$1; k=$2; shift 2',
  'if [ "$r" = receive ]; then dir=$1; n=$2; shift 2; t="$dir/$n"; fresh=1; { [ -e "$t" ] || [ -L "$t" ]; } && fresh=; fi',
  // The partial this receive made, if any: absent before, a directory now, no Received UUID.
  'partial() { [ "$r" = receive ] && [ -n "$fresh" ] && [ -d "$t" ] && [ ! -L "$t" ] && ' +
    '"$@" subvolume show "$t" 2>/dev/null | grep -Eq "^[[:space:]]*Received UUID:[[:space:]]+-[[:space:]]*$" && ' +
    '"$@" subvolume delete "$t" >/dev/null 2>&1; return 0; }',
  // Scratch first: a stopped job gets KILL 2 s after TERM, maybe before the partial is gone.
  `trap '[ -z "$d" ] || rm -rf "$d"; [ -n "$ok" ] || partial "$@"' EXIT`,
  "trap 'exit 143' HUP INT TERM",
  // No token: a local receive, digested by this process; only the partial cleanup is wanted.
  'if [ -z "$k" ]; then "$@" receive -q -e "$dir"; rc=$?; [ "$rc" = 0 ] && ok=1; exit "$rc"; fi',
  // What stages killed outright (KILL) left: scratch of dead stages (the PID is in the name), and
  // records no run came back for within a day.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  'for o in /tmp/sshmux-btrfs.*.*; do [ -O "$o" ] || continue; q=${o#/tmp/sshmux-btrfs.}; q=${q%%.*}; kill -0 "$q" 2>/dev/null || rm -rf "$o"; done',
  'find /tmp -maxdepth 1 -name "sshmux-btrfs-*.sha256" -user "$(id -u)" -mmin +1440 -exec rm -f {} + 2>/dev/null',
  'd=$(mktemp -d "/tmp/sshmux-btrfs.$$.XXXXXX") || exit 125',
  'mkfifo "$d/f" || exit 125',
  'sha256sum <"$d/f" >"$d/h" &',
  'p=$!',
  'if [ "$r" = send ]; then { "$@"; echo $? >"$d/rc"; } | tee "$d/f"; ts=$?; rc=$(cat "$d/rc" 2>/dev/null); [ -n "$rc" ] || rc=1; [ "$rc" = 0 ] && rc=$ts',
  'else tee "$d/f" | "$@" receive -q -e "$dir"; rc=$?; fi',
  'wait $p',
  '[ "$rc" = 0 ] || exit "$rc"',
  'read h x <"$d/h" || exit 125',
  'ok=1',
  `printf '%s\\n' "$h" >"/tmp/sshmux-btrfs-$k.$r.sha256"`,
  `printf '${MARK} %s\\n' "$h" >&2`,
].join('\n');

/** A random token naming one transfer's digest records on both hosts. */
export function digestToken(): string {
  return randomBytes(12).toString('hex');
}

/** The stage that runs `btrfs send` (its argv) and digests what it writes. */
export function sendStage(token: string, sendArgv: readonly string[]): string[] {
  return ['sh', '-c', DIGEST_SCRIPT, 'sh', 'send', token, ...sendArgv];
}

/**
 * The stage that runs `btrfs receive -q -e DIR` (`btrfs`: its argv prefix, e.g. `sudo -n
 * /usr/bin/btrfs`), digests what it reads (unless `token` is empty: a local receive, which this
 * process digests), and removes its partial NAME if it fails.
 */
export function receiveStage(token: string, dir: string, name: string, btrfs: readonly string[]): string[] {
  return ['sh', '-c', DIGEST_SCRIPT, 'sh', 'receive', token, dir, name, ...btrfs];
}

/** The digest a digest stage printed on stderr, or null (it failed, or its stderr was lost). */
export function parseDigest(stderr: string): string | null {
  const all = [...stderr.matchAll(/^@@sshmux-sha256 ([0-9a-f]{64})$/gm)];
  return all.at(-1)?.[1] ?? null;
}

/** Stderr without the digest marker, for messages. */
export function stripDigest(stderr: string): string {
  return stderr.replace(/^@@sshmux-sha256 [0-9a-f]{64}\n?/gm, '');
}

/** Path of a digest record (the token is hex, nothing to quote). */
export function digestRecordPath(token: string, role: DigestRole): string {
  return `/tmp/sshmux-btrfs-${token}.${role}.sha256`;
}

/**
 * Read back and remove the digest record a digest stage left on `host`: the digest, or null
 * when there is none (the stage did not exit 0). Throws when the host cannot be reached.
 */
export async function takeDigestRecord(
  host: BtrfsHost,
  token: string,
  role: DigestRole,
): Promise<string | null> {
  const r = await host.run([
    'sh',
    '-c',
    'cat "$1" 2>/dev/null; rm -f "$1"',
    'sh',
    digestRecordPath(token, role),
  ]);
  const m = /^([0-9a-f]{64})$/m.exec(r.stdout);
  return m ? m[1]! : null;
}

/** SHA-256 of what a stream emits, read at any time (later bytes are then ignored). */
export class StreamHash {
  readonly #hash = createHash('sha256');
  #hex: string | undefined;

  /** Hash every chunk `source` emits from now on, beside whoever else reads it. */
  watch(source: Readable): this {
    source.on('data', (d: Buffer) => {
      if (this.#hex === undefined) this.#hash.update(d);
    });
    return this;
  }

  get hex(): string {
    this.#hex ??= this.#hash.digest('hex');
    return this.#hex;
  }
}
