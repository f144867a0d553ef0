import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SshmuxError, type SshPool, sendSnapshot } from '../../src/index.js';
import { CLI, ROOT, runCli } from '../helpers/cli.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { CONTAINER_BTRFS, type StartedSshd, startSshd } from '../helpers/sshd.js';
import { TmuxTerminal } from '../helpers/tmux.js';

const MiB = 1024 * 1024;

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1e8 });
}

/** SHA-256 of a fresh `btrfs send` of `snap` (the stream is deterministic for a given snapshot). */
function streamSha(snap: string): string {
  return sh('sh', ['-c', `btrfs send -q '${snap}' | sha256sum`]).split(' ')[0]!;
}

async function rejection(p: Promise<unknown>): Promise<SshmuxError> {
  try {
    await p;
  } catch (err) {
    return err as SshmuxError;
  }
  throw new Error('expected a rejection');
}

async function until<T>(what: string, fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

/** Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, tty_nr, tpgid. */
function procStat(pid: number): { state: string; pgrp: number; session: number; tty: number; tpgid: number } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: f[0]!, pgrp: +f[2]!, session: +f[3]!, tty: +f[4]!, tpgid: +f[5]! };
}

/** Pids of processes whose exact name is `name` and whose command line has all of `args`. */
function pidsOf(name: string, ...args: string[]): number[] {
  let out = '';
  try {
    out = sh('pgrep', ['-x', name]);
  } catch {
    return [];
  }
  return out
    .trim()
    .split('\n')
    .map(Number)
    .filter((pid) => {
      try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args.every((a) => argv.includes(a));
      } catch {
        return false;
      }
    });
}

describe('btrfs stream integrity: end-to-end SHA-256, isolated sender, cut after success', () => {
  let sshd: StartedSshd;
  let pool: SshPool;
  let snaps: string;
  let vol: string;
  /** Digest records and scratch directories left in /tmp: `remote | local`, by name. */
  const records = async () =>
    `${(await sshd.sh('ls /tmp | grep "^sshmux-btrfs" || true')).trim()}|${sh('sh', ['-c', 'ls /tmp | grep "^sshmux-btrfs" || true']).trim()}`;

  function snapshot(name: string, mib: number): string {
    writeFileSync(path.join(vol, `${name}.bin`), randomBytes(mib * MiB));
    const p = path.join(snaps, name);
    sh('btrfs', ['subvolume', 'snapshot', '-r', vol, p]);
    return p;
  }

  beforeAll(async () => {
    sshd = await startSshd({ btrfs: true });
    pool = sshd.pool({ resolve: (dest) => sshd.hostConfig(dest) });
    vol = path.join(sshd.btrfs!.source, 'vol');
    snaps = path.join(sshd.btrfs!.source, 'snaps');
    sh('btrfs', ['subvolume', 'create', vol]);
    mkdirSync(snaps);
    await sshd.sh(
      `mkdir -p ${CONTAINER_BTRFS}/ok ${CONTAINER_BTRFS}/hostile ${CONTAINER_BTRFS}/cut ${CONTAINER_BTRFS}/sig ${CONTAINER_BTRFS}/sigint ${CONTAINER_BTRFS}/killed`,
    );
  });

  afterAll(async () => {
    await pool?.close();
    await sshd?.stop();
  });

  it('reports the SHA-256 of the stream btrfs send wrote, equal on both ends, and leaves no record behind', async () => {
    const snap = snapshot('plain', 3);
    const r = await sendSnapshot(pool, { source: snap, target: `backup:${CONTAINER_BTRFS}/ok` });
    expect(r.status).toBe('sent');
    expect(r.sha256).toBe(streamSha(snap));
    expect(r.verification).toContain(`stream SHA-256 ${r.sha256} on both ends`);
    expect(await records()).toBe('|');
  });

  it('fails a stream altered on the receiving side that btrfs receive accepted, and removes what it made', async () => {
    const snap = snapshot('victim', 2);
    // The receiving host's zstd decompresses, then flips one data byte and fixes the command's
    // CRC: btrfs receive exits 0 with a wrong file and the right Received UUID.
    const flip = readFileSync(path.join(ROOT, 'test/fixtures/btrfs-flip.py')).toString('base64');
    const shim =
      '#!/bin/sh\ncase " $* " in *" -d "*) /usr/bin/zstd "$@" | python3 /usr/local/lib/btrfs-flip.py; exit $?;; esac\nexec /usr/bin/zstd "$@"\n';
    await sshd.sh(
      `echo ${flip} | base64 -d > /usr/local/lib/btrfs-flip.py && printf '%s' '${shim}' > /usr/local/bin/zstd && chmod 755 /usr/local/bin/zstd && rm -f /tmp/sshmux-flipped`,
    );
    try {
      const err = await rejection(
        sendSnapshot(pool, { source: snap, target: `root:${CONTAINER_BTRFS}/hostile`, compress: 'zstd' }),
      );
      expect(await sshd.sh('test -e /tmp/sshmux-flipped && echo flipped')).toBe('flipped\n');
      expect(err).toMatchObject({ kind: 'verify', code: 'SSHMUX_ERR_BTRFS_DIGEST' });
      expect(err.message).toMatch(
        /btrfs send on local wrote SHA-256 [0-9a-f]{64}, btrfs receive on root read [0-9a-f]{64}: the stream was altered/,
      );
      expect(err.message).toMatch(
        /cleanup: removed \S+hostile\/victim, received from a stream that failed verification/,
      );
      expect(await sshd.sh(`ls -A ${CONTAINER_BTRFS}/hostile`)).toBe('');
      expect(await records()).toBe('|');
    } finally {
      await sshd.sh('rm -f /usr/local/bin/zstd /usr/local/lib/btrfs-flip.py /tmp/sshmux-flipped');
    }
  });

  it('calls a transfer whose connection died after both ends exited 0 a success, proven over a new connection', async () => {
    const snap = snapshot('lucky', 16);
    await using proxy = await FaultProxy.start({ targetPort: sshd.port, seed: 17 });
    const cutPool = sshd.pool({ resolve: (d) => sshd.hostConfig(d, { port: proxy.port }) });
    let cut: Promise<void> | undefined;
    try {
      const r = await sendSnapshot(cutPool, {
        source: snap,
        target: `backup:${CONTAINER_BTRFS}/cut`,
        rateLimit: '16M',
        progressInterval: 0,
        onProgress: (e) => {
          if (!e.done || cut) return;
          // The whole stream is on its way: hold what the server says (the receiver's exit
          // status among it), and cut once the receiver has exited 0 there.
          proxy.holdFromServer();
          cut = until(
            'the receiver to exit 0',
            () => sshd.sh('ls /tmp | grep -c "^sshmux-btrfs-.*receive.sha256" || true'),
            (n) => n.trim() === '1',
          ).then(() => proxy.cutAll());
        },
      });
      await cut;
      expect(r.status).toBe('sent');
      expect(r.verification).toMatch(
        /the connection dropped after both ends exited 0: .*checked again over a new one/,
      );
      expect(r.sha256).toBe(streamSha(snap));
      expect(r.received.readonly).toBe(true);
      expect(await records()).toBe('|');
    } finally {
      await cutPool.close();
    }
  });

  it('keeps SIGTSTP/SIGCONT and SIGWINCH sent to the terminal foreground group away from btrfs send', async () => {
    const snap = snapshot('signals', 40);
    const config = sshd.writeSshConfig('nas');
    const t = new TmuxTerminal({ PATH: process.env.PATH, HOME: process.env.HOME, SSH_AUTH_SOCK: '' });
    try {
      await t.waitFor(/LOCAL\$ $/m);
      t.type(
        `${process.execPath} ${CLI} btrfs send -F ${config} --limit-rate 10M ${snap} nas:${CONTAINER_BTRFS}/sig`,
      );
      const [pid] = await until(
        'btrfs send to run',
        () => pidsOf('btrfs', 'send', snap),
        (p) => p.length > 0,
      );
      const [client] = pidsOf('node', CLI);
      const send = procStat(pid!);
      const fg = procStat(client!);
      // The client is the terminal's foreground group; btrfs send has no terminal and a session of its own.
      expect(fg.tpgid).toBe(fg.pgrp);
      expect(send.tty).toBe(0);
      expect(send.pgrp).not.toBe(fg.tpgid);
      expect(send.session).not.toBe(fg.session);
      // The terminal's progress bar, with the total and an ETA as the --json events carry them.
      await t.waitFor(/btrfs \[[^\]]+\] \d+% \| [\d.]+ MiB\/[\d.]+ MiB \| [\d.]+ MiB\/s \| ETA 0:0\d/);
      t.keys('C-z');
      await t.waitFor(/Stopped/);
      expect(procStat(client!).state).toBe('T');
      await sleep(300);
      expect(procStat(pid!).state).not.toBe('T');
      // The job's status once it ends: `fg` waits for it.
      t.type('fg; echo EXIT=$?');
      for (const [cols, rows] of [
        [120, 40],
        [80, 24],
        [100, 30],
      ] as const) {
        await sleep(200);
        t.resize(cols, rows);
      }
      await t.waitFor(/EXIT=\d+/, 60_000);
      expect(t.screen()).toMatch(/EXIT=0/);
      expect(t.screen().replace(/\n/g, '')).toContain(`stream SHA-256 ${streamSha(snap)} on both ends`);
      expect(pidsOf('btrfs', 'send', snap)).toEqual([]);

      // Ctrl-C is sshmux's to act on: it aborts, and ends the sender and the partial itself.
      t.clear();
      t.type(
        `${process.execPath} ${CLI} btrfs send -F ${config} --limit-rate 10M ${snap} nas:${CONTAINER_BTRFS}/sigint; echo EXIT=$?`,
      );
      await t.waitFor(/ETA 0:0\d/);
      t.keys('C-c');
      await t.waitFor(/EXIT=\d+/, 30_000);
      expect(t.screen()).toMatch(/EXIT=2/);
      expect(pidsOf('btrfs', 'send', snap)).toEqual([]);
      await until(
        'no partial subvolume',
        () => sshd.sh(`ls -A ${CONTAINER_BTRFS}/sigint`),
        (ls) => ls === '',
      );
    } finally {
      t.kill();
    }
  });

  it('a client killed with SIGKILL mid-send leaves no partial subvolume and no process: the rerun just works', async () => {
    const snap = snapshot('killed', 24);
    const config = sshd.writeSshConfig('nas');
    const args = [
      'btrfs',
      'send',
      '-F',
      config,
      '--limit-rate',
      '8M',
      '--json',
      snap,
      `nas:${CONTAINER_BTRFS}/killed`,
    ];
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SSH_AUTH_SOCK: '' },
    });
    let seen = '';
    let errors = '';
    child.stderr.on('data', (d: Buffer) => {
      errors += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        const m = [...seen.matchAll(/"bytes":(\d+)/g)].at(-1);
        if (m && Number(m[1]) > 10 * MiB) resolve();
      });
      child.once('exit', () => reject(new Error(`the client ended before it was killed: ${seen}${errors}`)));
    });
    const running = await sshd.processes('btrfs receive');
    expect(running.join('\n')).toMatch(/btrfs receive -q -e \/mnt\/btrfs\/killed/);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // Nobody left to clean up but the receiving stage itself: its partial and every process go.
    await until(
      'no btrfs receive on the server',
      () => sshd.processes('btrfs receive'),
      (p) => p.length === 0,
    );
    await until(
      'no partial subvolume',
      () => sshd.sh(`ls -A ${CONTAINER_BTRFS}/killed`),
      (ls) => ls === '',
    );
    await until(
      'no local btrfs send',
      () => pidsOf('btrfs', 'send', snap),
      (p) => p.length === 0,
    );
    const again = await runCli(['btrfs', 'send', '-F', config, snap, `nas:${CONTAINER_BTRFS}/killed`], {
      env: { SSH_AUTH_SOCK: '' },
    });
    expect(again.stderr).not.toMatch(/error|exists|refusing/i);
    expect(again.code).toBe(0);
    expect(again.stdout.toString()).toMatch(/sent killed .*\(full\).*verified/);
    expect(await records()).toBe('|');
  });
});
