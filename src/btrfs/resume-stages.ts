/**
 * The two shell wrappers a resumable transfer adds around the digest stages (stream-digest.ts).
 *
 * The receiving one keeps a prefix of the stream as a spool file next to the target and, on a
 * resume, replays that prefix into a fresh `btrfs receive` before the bytes that arrive; the
 * sending one lets `btrfs send` regenerate the whole stream, hashes its first OFFSET bytes, and
 * sends only the rest, or nothing at all when that prefix is not the one the receiver holds.
 * The digest stages inside them still see the WHOLE stream: what btrfs send wrote, what btrfs
 * receive read.
 */

/** Marker on the sender's stderr: the regenerated stream does not start with the spooled prefix. */
export const PREFIX_MISMATCH = '@@sshmux-resume-mismatch';

/**
 * `sh -c SPOOL_SCRIPT sh SPOOL OFF CAP TARGET K stage...`: runs the receive stage with stdin
 * = the first OFF bytes of SPOOL/stream, then this stage's stdin; appends what arrives to
 * SPOOL/stream while it holds fewer than CAP bytes (a spool write that fails, e.g. on a full
 * disk, only stops the spool growing). Holds SPOOL/lock (flock) while any of its processes run,
 * so a rerun never takes a running transfer's spool or partial for abandoned ones. Records in
 * SPOOL/partial the UUID of the subvolume btrfs receive creates at TARGET, so a partial left by
 * a run that could not clean up is recognised by identity (`stage` from its K-th argument on is
 * the btrfs argv prefix, e.g. `sudo -n /usr/bin/btrfs`). Exits with the stage's status.
 */
export const SPOOL_SCRIPT = [
  's=$1; off=$2; cap=$3; t=$4; k=$5; shift 5',
  'exec 9>>"$s/lock" || exit 125',
  'flock -n 9 || { echo "sshmux: $s is in use by another transfer" >&2; exit 75; }',
  'w=',
  `trap '[ -z "$w" ] || kill "$w" 2>/dev/null; rm -f "$s/in.$$"' EXIT`,
  "trap 'exit 143' HUP INT TERM",
  // The subvolume btrfs receive makes at TARGET (the name was free when this started): its UUID.
  // It ends with this shell ($$ is still the wrapper's PID in the subshell), even one killed outright.
  'p=$$',
  '( i=0; while [ "$i" -lt 6000 ] && kill -0 "$p" 2>/dev/null; do if [ -d "$t" ]; then ' +
    'u=$( shift "$k"; "$@" subvolume show "$t" 2>/dev/null | sed -n "s/^[[:space:]]*UUID:[[:space:]]*//p" | head -n 1 ); ' +
    '[ -z "$u" ] || { printf "%s\\n" "$u" >"$s/partial.new" && mv -f "$s/partial.new" "$s/partial"; }; exit 0; fi; ' +
    'sleep 0.1; i=$((i + 1)); done ) 9>&- &',
  'w=$!',
  'if [ "$cap" -gt "$off" ]; then',
  '  f="$s/in.$$"; rm -f "$f"; mkfifo "$f" || exit 125',
  '  { head -c "$((cap - off))" >>"$s/stream"; cat >/dev/null; } <"$f" &',
  '  g=$!',
  '  { [ "$off" = 0 ] || head -c "$off" "$s/stream" || exit 1; tee "$f"; } | "$@"',
  '  rc=$?',
  '  wait "$g"',
  'else',
  '  { [ "$off" = 0 ] || head -c "$off" "$s/stream" || exit 1; cat; } | "$@"',
  '  rc=$?',
  'fi',
  'exit "$rc"',
].join('\n');

/**
 * `sh -c SKIP_SCRIPT sh OFF SHA stage...`: runs the send stage (which regenerates and digests
 * the whole stream), reads its first OFF bytes and writes only what follows, once their SHA-256
 * is SHA; otherwise writes nothing, prints PREFIX_MISMATCH and exits 3. Relies on `head -c`
 * reading no more than it writes (GNU coreutils does); a head that read ahead would lose bytes,
 * which the whole-stream digest comparison then reports.
 */
export const SKIP_SCRIPT = [
  'n=$1; want=$2; shift 2',
  'd=$(mktemp -d "/tmp/sshmux-btrfs.$$.XXXXXX") || exit 125',
  `trap 'rm -rf "$d"' EXIT`,
  "trap 'exit 143' HUP INT TERM",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  '{ "$@"; echo $? >"$d/s"; } | { h=$(head -c "$n" | sha256sum); h=${h%% *}; ' +
    `if [ "$h" != "$want" ]; then printf '${PREFIX_MISMATCH} %s\\n' "$h" >&2; exit 3; fi; exec cat; }`,
  'g=$?',
  '[ "$g" = 0 ] || exit "$g"',
  's=$(cat "$d/s" 2>/dev/null)',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  'exit "${s:-1}"',
].join('\n');

/** Wrap a receive stage so that it replays and extends the spool at `spool` (see SPOOL_SCRIPT). */
export function spoolStage(
  spool: string,
  offset: number,
  cap: number,
  target: string,
  btrfs: readonly string[],
  stage: readonly string[],
): string[] {
  const k = stage.length - btrfs.length;
  if (k < 0 || stage.slice(k).join('\0') !== btrfs.join('\0')) {
    throw new TypeError('spoolStage: the stage must end with the btrfs argv prefix');
  }
  return ['sh', '-c', SPOOL_SCRIPT, 'sh', spool, String(offset), String(cap), target, String(k), ...stage];
}

/** Wrap a send stage so that it skips the first `offset` bytes once they hash to `sha256`. */
export function skipStage(offset: number, sha256: string, stage: readonly string[]): string[] {
  return ['sh', '-c', SKIP_SCRIPT, 'sh', String(offset), sha256, ...stage];
}
