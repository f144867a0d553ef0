/** One scp operand: a local path, or a remote `[user@]host:path` / `scp://[user@]host[:port][/path]`. */
export type ScpOperand =
  | { kind: 'local'; path: string }
  | { kind: 'remote'; user: string | undefined; host: string; port: number | undefined; path: string }
  | { kind: 'invalid' };

/** misc.c colon(): where the host part ends, or -1 for a local path (a `:` after a `/` is local). */
export function colonIndex(s: string): number {
  if (s.startsWith(':')) return -1;
  let bracket = s.startsWith('[');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '@' && s[i + 1] === '[') bracket = true;
    if (c === ']' && s[i + 1] === ':' && bracket) return i + 1;
    if (c === ':' && !bracket) return i;
    if (c === '/') return -1;
  }
  return -1;
}

/** cleanhostname(): `[v6]` without its brackets. */
function cleanHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function parseOperand(s: string): ScpOperand {
  if (s.startsWith('scp://')) return parseUri(s.slice(6));
  const colon = colonIndex(s);
  if (colon < 0) return { kind: 'local', path: s };
  const path = s.slice(colon + 1) === '' ? '.' : s.slice(colon + 1);
  const userHost = s.slice(0, colon);
  const at = userHost.lastIndexOf('@');
  if (at < 0) return { kind: 'remote', user: undefined, host: cleanHost(userHost), port: undefined, path };
  const user = userHost.slice(0, at);
  return {
    kind: 'remote',
    user: user === '' ? undefined : user,
    host: cleanHost(userHost.slice(at + 1)),
    port: undefined,
    path,
  };
}

/** parse_uri("scp", …): user (connection parameters after `;` ignored), host, port, path (percent-decoded). */
function parseUri(rest: string): ScpOperand {
  let user: string | undefined;
  let tail = rest;
  const at = tail.indexOf('@');
  if (at >= 0) {
    const info = tail.slice(0, at).split(';')[0]!;
    if (info === '') return { kind: 'invalid' };
    user = decode(info);
    tail = tail.slice(at + 1);
  }
  let host: string;
  if (tail.startsWith('[')) {
    const end = tail.indexOf(']');
    if (end < 0) return { kind: 'invalid' };
    host = tail.slice(1, end);
    tail = tail.slice(end + 1);
  } else {
    const end = tail.search(/[:/]/);
    host = end < 0 ? tail : tail.slice(0, end);
    tail = end < 0 ? '' : tail.slice(end);
  }
  if (host === '' || user === null) return { kind: 'invalid' };
  let port: number | undefined;
  if (tail.startsWith(':')) {
    const slash = tail.indexOf('/');
    const text = slash < 0 ? tail.slice(1) : tail.slice(1, slash);
    const n = /^\d+$/.test(text) ? Number(text) : 0;
    if (!(n > 0 && n <= 65535)) return { kind: 'invalid' };
    port = n;
    tail = slash < 0 ? '' : tail.slice(slash);
  }
  const encoded = tail.startsWith('/') ? tail.slice(1) : tail;
  const path = encoded === '' ? '.' : decode(encoded);
  if (path === undefined || (user === undefined && at >= 0)) return { kind: 'invalid' };
  return { kind: 'remote', user, host, port, path };
}

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
