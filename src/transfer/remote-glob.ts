import type { SftpClient } from './sftp-client.js';

const STAR = 0x2a;
const QUESTION = 0x3f;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const DOT = 0x2e;

/** Whether a path component has glob(3) magic: `*`, `?` or `[`. */
export function hasMagic(pattern: Buffer): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === BACKSLASH) i++;
    else if (c === STAR || c === QUESTION || c === OPEN) return true;
  }
  return false;
}

/** A pattern without its backslash escapes (what glob(3) looks up when a component has no magic). */
export function unescapeGlob(pattern: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === BACKSLASH && i + 1 < pattern.length) i++;
    out.push(pattern[i]!);
  }
  return Buffer.from(out);
}

/** fnmatch(3) on bytes, as glob(3) matches one component: a leading `.` only matches a literal dot. */
export function matchComponent(pattern: Buffer, name: Buffer): boolean {
  if (name[0] === DOT && pattern[0] !== DOT) return false;
  return matchAt(pattern, 0, name, 0);
}

function matchAt(p: Buffer, pi: number, n: Buffer, ni: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === STAR) {
      while (p[pi] === STAR) pi++;
      if (pi === p.length) return true;
      for (let k = ni; k <= n.length; k++) if (matchAt(p, pi, n, k)) return true;
      return false;
    }
    if (ni >= n.length) return false;
    if (c === QUESTION) {
      pi++;
      ni++;
      continue;
    }
    if (c === OPEN) {
      const end = classEnd(p, pi);
      if (end > 0) {
        if (!inClass(p, pi + 1, end, n[ni]!)) return false;
        pi = end + 1;
        ni++;
        continue;
      }
    }
    let literal = c;
    if (c === BACKSLASH && pi + 1 < p.length) literal = p[++pi]!;
    if (literal !== n[ni]) return false;
    pi++;
    ni++;
  }
  return ni === n.length;
}

/** Index of the `]` closing a bracket expression starting at `start`, or -1 (then `[` is literal). */
function classEnd(p: Buffer, start: number): number {
  let i = start + 1;
  if (p[i] === 0x21 || p[i] === 0x5e) i++;
  if (p[i] === CLOSE) i++;
  for (; i < p.length; i++) if (p[i] === CLOSE) return i;
  return -1;
}

function inClass(p: Buffer, from: number, end: number, c: number): boolean {
  let i = from;
  const negate = p[i] === 0x21 || p[i] === 0x5e;
  if (negate) i++;
  let found = false;
  let first = true;
  while (i < end) {
    let lo = p[i]!;
    if (lo === BACKSLASH && i + 1 < end) lo = p[++i]!;
    if (lo === CLOSE && !first) break;
    first = false;
    if (p[i + 1] === 0x2d && i + 2 < end) {
      let hi = p[i + 2]!;
      let step = 3;
      if (hi === BACKSLASH && i + 3 < end) {
        hi = p[i + 3]!;
        step = 4;
      }
      if (c >= lo && c <= hi) found = true;
      i += step;
    } else {
      if (c === lo) found = true;
      i++;
    }
  }
  return found !== negate;
}

/**
 * glob(3) with GLOB_NOCHECK over SFTP, as scp's and sftp's remote globbing (sftp-glob.c) does:
 * each component with magic is matched against the server's directory listing; no match
 * yields the pattern itself (unescaped), `matched` says whether anything matched.
 */
export async function remoteGlob(
  client: SftpClient,
  pattern: Buffer,
): Promise<{ paths: Buffer[]; matched: boolean }> {
  const absolute = pattern[0] === SLASH;
  const parts = splitSlash(pattern);
  if (!parts.some(hasMagic)) {
    // glob(3) still looks a literal path up: it "matches" when it exists.
    const literal = unescapeGlob(pattern);
    const exists = await client.lstat(literal).then(
      () => true,
      () => false,
    );
    return { paths: [exists ? await mark(client, literal) : literal], matched: exists };
  }
  let bases: Buffer[] = [absolute ? Buffer.from('/') : Buffer.alloc(0)];
  for (const [index, part] of parts.entries()) {
    const last = index === parts.length - 1;
    const next: Buffer[] = [];
    for (const base of bases) {
      if (!hasMagic(part)) {
        const candidate = join(base, unescapeGlob(part));
        if (last || (await isDir(client, candidate))) next.push(candidate);
        continue;
      }
      const dir = base.length === 0 ? Buffer.from('.') : base;
      const entries = await client.readdir(dir).catch(() => []);
      const names = entries.map((e) => e.filename).filter((n) => matchComponent(part, n));
      names.sort(Buffer.compare);
      for (const name of names) {
        const candidate = join(base, name);
        if (last || (await isDir(client, candidate))) next.push(candidate);
      }
    }
    bases = next;
    if (bases.length === 0) break;
  }
  if (bases.length === 0) return { paths: [unescapeGlob(pattern)], matched: false };
  return { paths: await Promise.all(bases.map((b) => mark(client, b))), matched: true };
}

/** GLOB_MARK: a directory (links followed) gets a trailing slash, which scp's messages show. */
async function mark(client: SftpClient, path: Buffer): Promise<Buffer> {
  if (path[path.length - 1] === SLASH || !(await isDir(client, path))) return path;
  return Buffer.concat([path, Buffer.from('/')]);
}

async function isDir(client: SftpClient, path: Buffer): Promise<boolean> {
  const attrs = await client.stat(path).catch(() => undefined);
  return attrs !== undefined && ((attrs.mode ?? 0) & 0o170000) === 0o040000;
}

function splitSlash(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i === b.length || b[i] === SLASH) {
      if (i > start) out.push(b.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

function join(base: Buffer, name: Buffer): Buffer {
  if (base.length === 0) return name;
  if (base[base.length - 1] === SLASH) return Buffer.concat([base, name]);
  return Buffer.concat([base, Buffer.from('/'), name]);
}
