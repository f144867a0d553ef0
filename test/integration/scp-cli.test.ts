import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { localManifest, type Mode, remoteManifest, ScpRunner, writeHostileTree } from './scp-helpers.js';

let sshd: StartedSshd;
let scp: ScpRunner;
let local: string;
let tree: string;
const MODES: Mode[] = ['daemon', 'direct'];

beforeAll(async () => {
  sshd = await startSshd();
  scp = new ScpRunner(sshd);
  local = mkdtempSync(path.join(os.tmpdir(), 'sshmux-scp-it-'));
  tree = path.join(local, 'tree');
  writeHostileTree(tree);
});

afterAll(async () => {
  await scp?.cleanup();
  await sshd?.stop();
  if (local) rmSync(local, { recursive: true, force: true });
});

describe.each(MODES)('sshmux scp (%s)', (mode) => {
  it('-r uploads a tree of hostile names byte-identical, links followed, no temporary names left', async () => {
    const r = await scp.scp(mode, ['-r', tree, scp.remote(`/tmp/up-${mode}`)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const theirs = await remoteManifest(sshd, `/tmp/up-${mode}`);
    expect(theirs).toBe(localManifest(tree));
    expect(theirs.split('\n').length).toBeGreaterThan(15);
    const leftovers = await sshd.exec([
      'sh',
      '-c',
      `find /tmp/up-${mode} -name '*.sshmux-*' -o -type l | wc -l`,
    ]);
    expect(leftovers.stdout.trim()).toBe('0');
  });
});
