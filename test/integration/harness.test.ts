import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client, type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';

/** Proves the harness with plain ssh2, before any sshmux code is involved. */
function connect(sshd: StartedSshd, username: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', reject);
    c.connect({
      host: sshd.host,
      port: sshd.port,
      username,
      privateKey: readFileSync(sshd.keyPath),
      hostVerifier: (key: Buffer) => sshd.hostKeys.some((k) => k.split(' ')[1] === key.toString('base64')),
    });
  });
}

function exec(c: Client, cmd: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      let out = '';
      let errOut = '';
      ch.on('data', (d: Buffer) => {
        out += d.toString();
      });
      ch.stderr.on('data', (d: Buffer) => {
        errOut += d.toString();
      });
      ch.on('close', (code: number) => resolve({ code, out, err: errOut }));
    });
  });
}

describe('test harness', () => {
  let sshd: StartedSshd;
  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('logs in as root and backup with the per-run key, and counts logins', async () => {
    const before = await sshd.countLogins();
    const root = await connect(sshd, 'root');
    const backup = await connect(sshd, 'backup');
    try {
      expect((await exec(root, 'id -un')).out.trim()).toBe('root');
      const b = await exec(backup, 'id -un; echo $SHELL; sudo -n btrfs --version');
      expect(b.code).toBe(0);
      expect(b.out).toMatch(/^backup\n\/bin\/bash\nbtrfs-progs v/);
      // sudo is for btrfs only.
      expect((await exec(backup, 'sudo -n id')).code).not.toBe(0);
    } finally {
      root.end();
      backup.end();
    }
    expect(await sshd.countLogins()).toBe(before + 2);
    expect(await sshd.countLogins('backup')).toBeGreaterThanOrEqual(1);
  });

  it('round-trips a real btrfs send | receive through the harness filesystems', async () => {
    const btrfs = sshd.btrfs!;
    const vol = path.join(btrfs.source, 'vol');
    execFileSync('btrfs', ['subvolume', 'create', vol], { stdio: 'ignore' });
    writeFileSync(path.join(vol, 'hello.txt'), 'hello from the host\n');
    const snap = path.join(btrfs.source, 'snap1');
    execFileSync('btrfs', ['subvolume', 'snapshot', '-r', vol, snap], { stdio: 'ignore' });
    const uuid = /^\s*UUID:\s+(\S+)/m.exec(
      execFileSync('btrfs', ['subvolume', 'show', snap], { encoding: 'utf8' }),
    )![1];

    const c = await connect(sshd, 'root');
    try {
      const channel = await new Promise<ClientChannel>((resolve, reject) =>
        c.exec(`btrfs receive ${CONTAINER_BTRFS}`, (err, ch) => (err ? reject(err) : resolve(ch))),
      );
      const send = spawn('btrfs', ['send', snap], { stdio: ['ignore', 'pipe', 'ignore'] });
      channel.resume();
      let remoteErr = '';
      channel.stderr.on('data', (d: Buffer) => {
        remoteErr += d.toString();
      });
      const closed = new Promise<number>((resolve) => channel.on('close', (code: number) => resolve(code)));
      await pipeline(send.stdout, channel);
      expect({ code: await closed, remoteErr }).toEqual({ code: 0, remoteErr: expect.any(String) });
      const shown = await exec(c, `btrfs subvolume show ${CONTAINER_BTRFS}/snap1`);
      expect(shown.out).toMatch(new RegExp(`Received UUID:\\s+${uuid}`));
      expect((await exec(c, `cat ${CONTAINER_BTRFS}/snap1/hello.txt`)).out).toBe('hello from the host\n');
    } finally {
      c.end();
    }
    // The container's writes land on the host-mounted destination filesystem.
    expect(readFileSync(path.join(btrfs.destination, 'snap1', 'hello.txt'), 'utf8')).toBe(
      'hello from the host\n',
    );
  });
});
