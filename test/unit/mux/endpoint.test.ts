import { describe, expect, it } from 'vitest';
import {
  type DirStat,
  type EndpointEnvironment,
  ensurePrivateDir,
  selectEndpoint,
  socketPathLimit,
} from '../../../src/mux/endpoint.js';

const linux: EndpointEnvironment = {
  platform: 'linux',
  env: {},
  uid: 1000,
  username: 'alice',
  tmpdir: '/tmp',
  homedir: '/home/alice',
};

describe('selectEndpoint', () => {
  it('uses $XDG_RUNTIME_DIR/sshmux on POSIX', () => {
    const e = selectEndpoint({ ...linux, env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(e).toEqual({
      dir: '/run/user/1000/sshmux',
      socketPath: '/run/user/1000/sshmux/mux.sock',
      socketDir: undefined,
      tokenFile: '/run/user/1000/sshmux/token',
      lockFile: '/run/user/1000/sshmux/lock',
      spawnFile: '/run/user/1000/sshmux/spawning',
      logFile: '/run/user/1000/sshmux/daemon.log',
      isNamedPipe: false,
    });
  });

  it('falls back to <tmpdir>/sshmux-<uid> without XDG_RUNTIME_DIR', () => {
    const e = selectEndpoint({ ...linux, tmpdir: '/var/tmp' });
    expect(e.dir).toBe('/var/tmp/sshmux-1000');
    expect(e.socketPath).toBe('/var/tmp/sshmux-1000/mux.sock');
  });

  it('moves the socket to a short hashed name when the path is too long for sun_path', () => {
    const deep = `/run/${'d'.repeat(95)}`;
    const e = selectEndpoint({ ...linux, env: { XDG_RUNTIME_DIR: deep } });
    expect(e.dir).toBe(`${deep}/sshmux`);
    expect(e.tokenFile).toBe(`${deep}/sshmux/token`);
    expect(e.socketDir).toBe('/tmp/sshmux-1000');
    expect(e.socketPath).toMatch(/^\/tmp\/sshmux-1000\/[0-9a-f]{12}\.sock$/);
    expect(Buffer.byteLength(e.socketPath)).toBeLessThanOrEqual(socketPathLimit('linux'));
    // Another long dir gets another socket: runtime dirs never share a daemon.
    const other = selectEndpoint({ ...linux, env: { XDG_RUNTIME_DIR: `${deep}x` } });
    expect(other.socketPath).not.toBe(e.socketPath);
  });

  it('uses the smaller macOS limit (104 bytes with the NUL)', () => {
    expect(socketPathLimit('darwin')).toBe(103);
    expect(socketPathLimit('linux')).toBe(107);
    // 90 + '/sshmux/mux.sock' (16) = 106 bytes: too long for macOS, fine for Linux.
    const dir = `/Users/${'u'.repeat(83)}`;
    const mac = selectEndpoint({ ...linux, platform: 'darwin', env: { XDG_RUNTIME_DIR: dir } });
    expect(mac.socketDir).toBe('/tmp/sshmux-1000');
    const lin = selectEndpoint({ ...linux, env: { XDG_RUNTIME_DIR: dir } });
    expect(lin.socketDir).toBeUndefined();
  });

  it('uses a named pipe and %LOCALAPPDATA% on Windows', () => {
    const win: EndpointEnvironment = {
      platform: 'win32',
      env: { LOCALAPPDATA: 'C:\\Users\\Bob Smith\\AppData\\Local' },
      uid: -1,
      username: 'Bob Smith',
      tmpdir: 'C:\\Temp',
      homedir: 'C:\\Users\\Bob Smith',
    };
    const e = selectEndpoint(win);
    expect(e.isNamedPipe).toBe(true);
    expect(e.dir).toBe('C:\\Users\\Bob Smith\\AppData\\Local\\sshmux');
    expect(e.tokenFile).toBe('C:\\Users\\Bob Smith\\AppData\\Local\\sshmux\\token');
    expect(e.socketPath).toMatch(/^\\\\\.\\pipe\\sshmux-Bob_Smith-[0-9a-f]{12}$/);
    // Without LOCALAPPDATA: the profile's AppData\Local.
    const bare = selectEndpoint({ ...win, env: {} });
    expect(bare.dir).toBe('C:\\Users\\Bob Smith\\AppData\\Local\\sshmux');
    expect(bare.socketPath).toBe(e.socketPath);
    // The daemon is started with --runtime-dir (SSHMUX_RUNTIME_DIR) and must find the same pipe.
    const daemonSide = selectEndpoint({ ...win, env: { SSHMUX_RUNTIME_DIR: e.dir.replace(/^C:/, 'c:') } });
    expect(daemonSide.socketPath).toBe(e.socketPath);
    // A different runtime dir (tests) gets a different pipe.
    const t = selectEndpoint({ ...win, env: { SSHMUX_RUNTIME_DIR: 'C:\\t\\run' } });
    expect(t.dir).toBe('C:\\t\\run');
    expect(t.socketPath).not.toBe(e.socketPath);
  });

  // Issue 15, defect 1: XDG_RUNTIME_DIR=/run/user/0 (no drive) won on win32; the client hashed
  // `\run\user\0\sshmux`, the daemon it started the resolved `Z:\run\user\0\sshmux`: two
  // pipe names, every invocation waited for a daemon it could not find.
  it('on Windows ignores XDG_RUNTIME_DIR and resolves drive-relative directories, so client and daemon agree', () => {
    const win: EndpointEnvironment = {
      platform: 'win32',
      env: { LOCALAPPDATA: 'C:\\Users\\bob\\AppData\\Local', XDG_RUNTIME_DIR: '/run/user/0' },
      uid: -1,
      username: 'bob',
      tmpdir: 'C:\\Temp',
      homedir: 'C:\\Users\\bob',
      cwd: 'Z:\\work',
    };
    const client = selectEndpoint(win);
    expect(client.dir).toBe('C:\\Users\\bob\\AppData\\Local\\sshmux');
    // Drive-relative values get the drive of the working directory, in the client already.
    const rel = selectEndpoint({ ...win, env: { SSHMUX_RUNTIME_DIR: '/tmp/rt' } });
    expect(rel.dir).toBe('Z:\\tmp\\rt');
    const relLocal = selectEndpoint({ ...win, env: { LOCALAPPDATA: '\\la' } });
    expect(relLocal.dir).toBe('Z:\\la\\sshmux');
    // The daemon runs elsewhere (cwd on C:) with --runtime-dir <client's dir>: the same pipe.
    for (const ep of [client, rel, relLocal]) {
      const daemon = selectEndpoint({ ...win, cwd: 'C:\\Windows', env: { SSHMUX_RUNTIME_DIR: ep.dir } });
      expect(daemon.socketPath).toBe(ep.socketPath);
      expect(daemon.dir).toBe(ep.dir);
    }
  });

  it('lets SSHMUX_RUNTIME_DIR name the directory itself (what the daemon is started with)', () => {
    const viaXdg = selectEndpoint({ ...linux, env: { XDG_RUNTIME_DIR: '/run/user/1000' } });
    const direct = selectEndpoint({ ...linux, env: { SSHMUX_RUNTIME_DIR: viaXdg.dir } });
    expect(direct).toEqual(viaXdg);
  });
});

function fakeFs(st: Partial<DirStat> & { uid: number; mode: number }) {
  const made: string[] = [];
  return {
    made,
    fs: {
      mkdir: (d: string) => void made.push(d),
      lstat: (): DirStat => ({
        isDirectory: () => true,
        isSymbolicLink: () => false,
        ...st,
      }),
    },
  };
}

describe('ensurePrivateDir', () => {
  it('accepts our own 0700 directory', () => {
    const f = fakeFs({ uid: 1000, mode: 0o40700 });
    expect(() => ensurePrivateDir('/run/x', 1000, f.fs)).not.toThrow();
    expect(f.made).toEqual(['/run/x']);
  });

  it('refuses a directory owned by someone else', () => {
    const f = fakeFs({ uid: 0, mode: 0o40700 });
    expect(() => ensurePrivateDir('/tmp/sshmux-1000', 1000, f.fs)).toThrow(
      /owned by uid 0, not by this user/,
    );
  });

  it('refuses group or world access', () => {
    expect(() => ensurePrivateDir('/d', 1000, fakeFs({ uid: 1000, mode: 0o40750 }).fs)).toThrow(/mode 750/);
    expect(() => ensurePrivateDir('/d', 1000, fakeFs({ uid: 1000, mode: 0o40707 }).fs)).toThrow(/mode 707/);
  });

  it('refuses a symlink or a file', () => {
    const link = fakeFs({ uid: 1000, mode: 0o120777, isSymbolicLink: () => true, isDirectory: () => false });
    expect(() => ensurePrivateDir('/d', 1000, link.fs)).toThrow(/not a plain directory/);
    const file = fakeFs({ uid: 1000, mode: 0o100600, isDirectory: () => false });
    expect(() => ensurePrivateDir('/d', 1000, file.fs)).toThrow(/not a plain directory/);
  });
});
