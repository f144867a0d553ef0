/**
 * LocalForward / RemoteForward / DynamicForward (and -L / -R / -D) parsed with readconf.c's
 * parse_forward() rules and printed as dump_cfg_forwards() prints them.
 */
export interface Forward {
  /** Listen address (bind address), when given. */
  readonly listenHost: string | undefined;
  /** -2 (PORT_STREAMLOCAL) when listenPath is set. */
  readonly listenPort: number;
  /** Listen Unix socket path, for a socket forward. */
  readonly listenPath: string | undefined;
  /** `socks` for a dynamic forward. */
  readonly connectHost: string | undefined;
  /** Port connected to; -2 (PORT_STREAMLOCAL) when connectPath is set. */
  readonly connectPort: number;
  /** Unix socket connected to, for a socket forward. */
  readonly connectPath: string | undefined;
}

const STREAMLOCAL = -2;

interface Field {
  readonly arg: string;
  readonly isPath: boolean;
}

/** parse_fwd_field(): `[literal]` fields, `\` escapes, `/` marks a path, `:` separates. */
function fields(spec: string): Field[] | undefined {
  const out: Field[] = [];
  let i = spec.search(/\S|$/);
  while (i < spec.length && out.length < 4) {
    if (spec[i] === '[') {
      const end = spec.indexOf(']', i + 1);
      if (end === -1 || (spec[end + 1] !== ':' && spec[end + 1] !== undefined)) return undefined;
      const arg = spec.slice(i + 1, end);
      out.push({ arg, isPath: arg.includes('/') });
      i = spec[end + 1] === ':' ? end + 2 : end + 1;
      continue;
    }
    let arg = '';
    let isPath = false;
    let closed = false;
    for (; i < spec.length; i++) {
      const c = spec[i]!;
      if (c === '\\') {
        i++;
        if (i >= spec.length) return undefined;
        arg += spec[i];
        continue;
      }
      if (c === '/') isPath = true;
      if (c === ':') {
        i++;
        closed = true;
        break;
      }
      arg += c;
    }
    out.push({ arg, isPath });
    if (!closed) break;
  }
  if (i < spec.length) return undefined;
  return out;
}

/** a2port(): 0–65535, else -1. */
function port(text: string): number {
  if (!/^[0-9]+$/.test(text)) return -1;
  const n = Number(text);
  return n <= 65535 ? n : -1;
}

/** parse_forward(); undefined where it returns 0 (a bad specification). */
export function parseForward(spec: string, dynamic: boolean, remote: boolean): Forward | undefined {
  const f = fields(spec);
  if (f === undefined) return undefined;
  let fwd: Forward | undefined;
  const none = {
    listenHost: undefined,
    listenPath: undefined,
    connectHost: undefined,
    connectPath: undefined,
  };
  const [a, b, c, d] = f;
  if (f.length === 1 && a) {
    fwd = a.isPath
      ? { ...none, listenPath: a.arg, listenPort: STREAMLOCAL, connectHost: 'socks', connectPort: 0 }
      : { ...none, listenPort: port(a.arg), connectHost: 'socks', connectPort: 0 };
  } else if (f.length === 2 && a && b) {
    if (a.isPath && b.isPath) {
      fwd = {
        ...none,
        listenPath: a.arg,
        listenPort: STREAMLOCAL,
        connectPath: b.arg,
        connectPort: STREAMLOCAL,
      };
    } else if (b.isPath) {
      fwd = { ...none, listenPort: port(a.arg), connectPath: b.arg, connectPort: STREAMLOCAL };
    } else {
      fwd = { ...none, listenHost: a.arg, listenPort: port(b.arg), connectHost: 'socks', connectPort: 0 };
    }
  } else if (f.length === 3 && a && b && c) {
    if (a.isPath) {
      fwd = {
        ...none,
        listenPath: a.arg,
        listenPort: STREAMLOCAL,
        connectHost: b.arg,
        connectPort: port(c.arg),
      };
    } else if (c.isPath) {
      fwd = {
        ...none,
        listenHost: a.arg,
        listenPort: port(b.arg),
        connectPath: c.arg,
        connectPort: STREAMLOCAL,
      };
    } else {
      fwd = { ...none, listenPort: port(a.arg), connectHost: b.arg, connectPort: port(c.arg) };
    }
  } else if (f.length === 4 && a && b && c && d) {
    fwd = {
      ...none,
      listenHost: a.arg,
      listenPort: port(b.arg),
      connectHost: c.arg,
      connectPort: port(d.arg),
    };
  }
  if (fwd === undefined) return undefined;
  const n = f.length;
  if (dynamic) {
    if (n !== 1 && n !== 2) return undefined;
  } else {
    if (n !== 3 && n !== 4 && fwd.connectPath === undefined && fwd.listenPath === undefined) return undefined;
    if (fwd.connectPort <= 0 && fwd.connectPath === undefined) return undefined;
  }
  if ((fwd.listenPort < 0 && fwd.listenPath === undefined) || (!remote && fwd.listenPort === 0))
    return undefined;
  if ((fwd.connectHost?.length ?? 0) >= 1025 || (fwd.listenHost?.length ?? 0) >= 1025) return undefined;
  if ((fwd.connectPath?.length ?? 0) >= 108 || (fwd.listenPath?.length ?? 0) >= 108) return undefined;
  return fwd;
}

function endpoint(host: string | undefined, p: number, path: string | undefined): string {
  if (p === STREAMLOCAL) return path ?? '';
  return host === undefined ? String(p) : `[${host}]:${p}`;
}

/** The listen side as ssh -G prints it. */
export function formatListen(f: Forward): string {
  return endpoint(f.listenHost, f.listenPort, f.listenPath);
}

/** The connect side as ssh -G prints it. */
export function formatConnect(f: Forward): string {
  return endpoint(f.connectHost, f.connectPort, f.connectPath);
}

/**
 * The `ssh -G` lines a local forward contributes: ssh keeps -D and -L in one list and prints
 * under `dynamicforward` every entry whose target is SOCKS *or unset* (a path target), and under
 * `localforward` every entry that is not SOCKS.
 */
export function printedLocal(f: Forward): { dynamic?: string; local?: string } {
  const socks = f.connectHost === 'socks';
  return {
    ...((f.connectHost === undefined || socks) && { dynamic: formatListen(f) }),
    ...(!socks && { local: `${formatListen(f)} ${formatConnect(f)}` }),
  };
}
