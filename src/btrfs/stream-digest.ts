import { randomBytes } from 'node:crypto';
import type { BtrfsHost } from './host.js';

/** Which end of the stream a digest stage sits at: after `btrfs send`, or before `btrfs receive`. */
export type DigestRole = 'send' | 'receive';

const MARK = '@@sshmux-sha256';

/**
 * `sh -c DIGEST_SCRIPT sh ROLE TOKEN argv...`: runs argv with `tee` into a fifo read by
 * `sha256sum`, on the host where the bytes are produced (send: argv's stdout) or consumed
 * (receive: argv's stdin), so the digest covers exactly the bytes btrfs wrote or read — not
 * what zstd, SSH or this process made of them. Exits with argv's status (POSIX sh has no
 * pipefail, hence the status file). When argv exits 0 the digest is printed on stderr after a
 * marker and kept in /tmp/sshmux-btrfs-TOKEN.ROLE.sha256, so that a run whose connection died
 * after both ends finished can still read it back and prove the transfer (readDigestRecord).
 */
export const DIGEST_SCRIPT = [
  'r=$1; k=$2; shift 2',
  'd=$(mktemp -d /tmp/sshmux-btrfs.XXXXXX) || exit 125',
  'trap \'rm -rf "$d"\' EXIT',
  "trap 'exit 143' HUP INT TERM",
  'mkfifo "$d/f" || exit 125',
  'sha256sum <"$d/f" >"$d/h" &',
  'p=$!',
  'if [ "$r" = send ]; then { "$@"; echo $? >"$d/rc"; } | tee "$d/f"; t=$?; rc=$(cat "$d/rc" 2>/dev/null); [ -n "$rc" ] || rc=1; [ "$rc" = 0 ] && rc=$t',
  'else tee "$d/f" | "$@"; rc=$?; fi',
  'wait $p',
  '[ "$rc" = 0 ] || exit "$rc"',
  'read h x <"$d/h" || exit 125',
  `printf '%s\\n' "$h" >"/tmp/sshmux-btrfs-$k.$r.sha256"`,
  `printf '${MARK} %s\\n' "$h" >&2`,
].join('\n');

/** A random token naming one transfer's digest records on both hosts. */
export function digestToken(): string {
  return randomBytes(12).toString('hex');
}

/** The stage that runs `argv` and digests its output (send) or input (receive). */
export function digestStage(role: DigestRole, token: string, argv: readonly string[]): string[] {
  return ['sh', '-c', DIGEST_SCRIPT, 'sh', role, token, ...argv];
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
