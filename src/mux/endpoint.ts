import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LocalError } from '../errors.js';

/** Where the daemon listens and keeps its token, lock and log. */
export interface MuxEndpoint {
  /** Directory holding token, lock and log; created 0700 on POSIX. */
  readonly dir: string;
  /** Unix socket path or Windows named pipe (`\\.\pipe\…`). */
  readonly socketPath: string;
  /** Set when the socket could not live in `dir` (path too long) and went to a shorter directory. */
  readonly socketDir: string | undefined;
  /** The daemon's secret, readable only by the user. */
  readonly tokenFile: string;
  /** Held while a daemon probes, binds or unbinds the socket. */
  readonly lockFile: string;
  /** Created (O_EXCL) by the one client that starts a daemon, so a crowd starts one, not dozens. */
  readonly spawnFile: string;
  /** The daemon's log (pino JSON lines). */
  readonly logFile: string;
  /** Whether `socketPath` is a Windows named pipe. */
  readonly isNamedPipe: boolean;
}

/** The facts endpoint selection depends on; injected so tests can play another platform. */
export interface EndpointEnvironment {
  /** `process.platform`. */
  platform: NodeJS.Platform;
  /** The environment (SSHMUX_RUNTIME_DIR, XDG_RUNTIME_DIR, LOCALAPPDATA). */
  env: Record<string, string | undefined>;
  /** -1 where there are no uids (Windows). */
  uid: number;
  /** The user's name (names the Windows pipe). */
  username: string;
  /** `os.tmpdir()`. */
  tmpdir: string;
  /** `os.homedir()`. */
  homedir: string;
  /**
   * The directory relative runtime paths are resolved against (Windows resolves drive-relative
   * ones, `\\x`, against its drive). @default process.cwd()
   */
  cwd?: string;
}

export function currentEnvironment(): EndpointEnvironment {
  let username: string;
  try {
    username = os.userInfo().username;
  } catch {
    username = process.env.USER ?? process.env.USERNAME ?? 'user';
  }
  return {
    platform: process.platform,
    env: process.env,
    uid: process.getuid?.() ?? -1,
    username,
    tmpdir: os.tmpdir(),
    homedir: os.homedir(),
    cwd: process.cwd(),
  };
}

/**
 * Longest `sun_path` a socket name may use including its NUL: 104 on macOS and the BSDs, 108
 * on Linux. Node reports EINVAL/ENAMETOOLONG past it, so paths are chosen to fit.
 */
export function socketPathLimit(platform: NodeJS.Platform): number {
  return platform === 'linux' || platform === 'android' ? 107 : 103;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/**
 * Choose the endpoint. POSIX: `$XDG_RUNTIME_DIR/sshmux`, else `<tmpdir>/sshmux-<uid>`, with the
 * socket `mux.sock` inside, or `/tmp/sshmux-<uid>/<hash>.sock` when that path is too long for a
 * Unix socket. Windows: `%LOCALAPPDATA%\sshmux` and a named pipe
 * `\\.\pipe\sshmux-<user>-<hash of the dir>`, so two runtime dirs never share a daemon.
 * `SSHMUX_RUNTIME_DIR` overrides the directory on every platform; Windows ignores
 * `XDG_RUNTIME_DIR` and resolves the directory against `cwd`'s drive.
 */
export function selectEndpoint(e: EndpointEnvironment = currentEnvironment()): MuxEndpoint {
  if (e.platform === 'win32') {
    const p = path.win32;
    // XDG_RUNTIME_DIR is a POSIX convention: on Windows it only leaks in (WSL, MSYS, Wine) as a
    // path without a drive. The pipe name hashes the directory, and the daemon is started with
    // it, so it is resolved fully (drive included) here: both sides then hash the same string.
    const chosen =
      e.env.SSHMUX_RUNTIME_DIR ||
      p.join(e.env.LOCALAPPDATA || p.join(e.homedir, 'AppData', 'Local'), 'sshmux');
    const base = p.resolve(e.cwd ?? process.cwd(), chosen);
    const user = e.username.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32) || 'user';
    return {
      dir: base,
      socketPath: `\\\\.\\pipe\\sshmux-${user}-${shortHash(base.toLowerCase())}`,
      socketDir: undefined,
      tokenFile: p.join(base, 'token'),
      lockFile: p.join(base, 'lock'),
      spawnFile: p.join(base, 'spawning'),
      logFile: p.join(base, 'daemon.log'),
      isNamedPipe: true,
    };
  }
  const p = path.posix;
  const uid = e.uid >= 0 ? String(e.uid) : e.username;
  const dir = e.env.SSHMUX_RUNTIME_DIR
    ? p.resolve(e.env.SSHMUX_RUNTIME_DIR)
    : e.env.XDG_RUNTIME_DIR
      ? p.join(e.env.XDG_RUNTIME_DIR, 'sshmux')
      : p.join(e.tmpdir, `sshmux-${uid}`);
  let socketPath = p.join(dir, 'mux.sock');
  let socketDir: string | undefined;
  const limit = socketPathLimit(e.platform);
  if (Buffer.byteLength(socketPath) > limit) {
    socketDir = `/tmp/sshmux-${uid}`;
    socketPath = `${socketDir}/${shortHash(dir)}.sock`;
    if (Buffer.byteLength(socketPath) > limit) {
      throw new LocalError(`No socket path for the sshmux daemon fits in ${limit} bytes: ${socketPath}`);
    }
  }
  return {
    dir,
    socketPath,
    socketDir,
    tokenFile: p.join(dir, 'token'),
    lockFile: p.join(dir, 'lock'),
    spawnFile: p.join(dir, 'spawning'),
    logFile: p.join(dir, 'daemon.log'),
    isNamedPipe: false,
  };
}

/** What `ensurePrivateDir` reads from the file system; injected in tests. */
export interface DirStat {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  uid: number;
  mode: number;
}

/**
 * Create `dir` 0700 if missing and check it is ours before trusting it: a real directory (not
 * a symlink), owned by `uid`, with no group or world access. Another user could otherwise
 * pre-create it in /tmp and read our token or plant a socket.
 */
export function ensurePrivateDir(
  dir: string,
  uid: number,
  fsImpl: { mkdir(dir: string): void; lstat(dir: string): DirStat } = {
    mkdir: (d) => mkdirSync(d, { recursive: true, mode: 0o700 }),
    lstat: (d) => lstatSync(d),
  },
): void {
  try {
    fsImpl.mkdir(dir);
  } catch (err) {
    throw new LocalError(`Cannot create the sshmux runtime directory ${dir}`, { cause: err });
  }
  const st = fsImpl.lstat(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) {
    throw new LocalError(`Refusing the sshmux runtime directory ${dir}: it is not a plain directory`);
  }
  if (uid >= 0 && st.uid !== uid) {
    throw new LocalError(
      `Refusing the sshmux runtime directory ${dir}: owned by uid ${st.uid}, not by this user (uid ${uid})`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new LocalError(
      `Refusing the sshmux runtime directory ${dir}: mode ${(st.mode & 0o777).toString(8)} lets others in (want 700)`,
    );
  }
}

/** Prepare the endpoint's directories (POSIX checks; Windows relies on the profile's ACLs). */
export function prepareEndpoint(endpoint: MuxEndpoint, e: EndpointEnvironment = currentEnvironment()): void {
  if (endpoint.isNamedPipe) {
    mkdirSync(endpoint.dir, { recursive: true });
    return;
  }
  ensurePrivateDir(endpoint.dir, e.uid);
  if (endpoint.socketDir) ensurePrivateDir(endpoint.socketDir, e.uid);
}
