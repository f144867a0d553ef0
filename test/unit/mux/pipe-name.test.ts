import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyConnectError } from '../../../src/mux/connect-error.js';
import type { MuxEndpoint } from '../../../src/mux/endpoint.js';
import {
  currentSocketPath,
  forgetSocketPath,
  freshSocketPath,
  pipeRecordFile,
  recordSocketPath,
} from '../../../src/mux/pipe-name.js';

const dirs: string[] = [];
function pipeEndpoint(): MuxEndpoint {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sshmux-pipe-name-'));
  dirs.push(dir);
  return {
    dir,
    socketPath: '\\\\.\\pipe\\sshmux-bob-0123456789ab',
    socketDir: undefined,
    tokenFile: path.join(dir, 'token'),
    lockFile: path.join(dir, 'lock'),
    spawnFile: path.join(dir, 'spawning'),
    logFile: path.join(dir, 'daemon.log'),
    isNamedPipe: true,
  };
}

// Issue 15, defect 3: after `-O stop` with a session running, Windows kept the pipe name alive
// and the next client waited 31 s on it (ETIMEDOUT); every daemon now listens on a name of its own.
describe('pipe name generations (Windows)', () => {
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('gives every daemon a fresh name, records it, and forgets only its own', async () => {
    const ep = pipeEndpoint();
    expect(await currentSocketPath(ep)).toBeUndefined();
    const first = freshSocketPath(ep);
    const second = freshSocketPath(ep);
    expect(first).toMatch(/^\\\\\.\\pipe\\sshmux-bob-0123456789ab-[0-9a-f]{16}$/);
    expect(second).not.toBe(first);
    await recordSocketPath(ep, first);
    expect(await currentSocketPath(ep)).toBe(first);
    await recordSocketPath(ep, second);
    // The stopping first daemon must not remove its successor's record.
    await forgetSocketPath(ep, first);
    expect(await currentSocketPath(ep)).toBe(second);
    await forgetSocketPath(ep, second);
    expect(await currentSocketPath(ep)).toBeUndefined();
  });

  it('follows no record that names another pipe', async () => {
    const ep = pipeEndpoint();
    writeFileSync(pipeRecordFile(ep), '\\\\.\\pipe\\someone-else');
    expect(await currentSocketPath(ep)).toBeUndefined();
    writeFileSync(pipeRecordFile(ep), `${ep.socketPath}-zz`);
    expect(await currentSocketPath(ep)).toBeUndefined();
  });

  it('keeps the Unix socket path on POSIX (unlinked on close, no generations)', async () => {
    const ep = { ...pipeEndpoint(), socketPath: '/run/user/1/sshmux/mux.sock', isNamedPipe: false };
    expect(freshSocketPath(ep)).toBe(ep.socketPath);
    expect(await currentSocketPath(ep)).toBe(ep.socketPath);
  });
});

describe('connect errors, classified', () => {
  const pipe = '\\\\.\\pipe\\sshmux-bob-0123456789ab-00';
  const err = (code: string) => Object.assign(new Error(`connect ${code} ${pipe}`), { code });

  it('treats a missing, refused or unanswered endpoint as "not serving"', () => {
    for (const code of ['ENOENT', 'ECONNREFUSED', 'ETIMEDOUT', 'EBUSY']) {
      const f = classifyConnectError(err(code), pipe);
      expect(f?.notServing).toBe(true);
      expect(f?.message).toContain(`pipe ${pipe}`);
      expect(f?.message).toContain(code);
    }
  });

  it('says what an access denial or an unexpected code means, never the raw text alone', () => {
    const denied = classifyConnectError(err('EACCES'), pipe);
    expect(denied).toEqual({
      notServing: false,
      message: `access to the sshmux daemon's pipe ${pipe} is denied (EACCES): it belongs to another user or program`,
    });
    const unknown = classifyConnectError(err('UNKNOWN'), '/run/sshmux/mux.sock');
    expect(unknown?.notServing).toBe(false);
    expect(unknown?.message).toBe(
      "cannot connect to the sshmux daemon's socket /run/sshmux/mux.sock: the system reported UNKNOWN, which sshmux does not expect there",
    );
    expect(classifyConnectError(new Error('protocol'), pipe)).toBeUndefined();
  });
});
