import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedSshd, startSshd } from '../helpers/sshd.js';
import { type CliResult, MuxSandbox } from './mux-helpers.js';

/**
 * UpdateHostKeys against OpenSSH 9.2: from a known_hosts holding only the container's ed25519 key,
 * /usr/bin/ssh and `sshmux ssh` (in-process and through the daemon) each learn the other host keys
 * into their own copy, and the copies end with the same (host, key) entries.
 */
const made = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'der' });
// A made-up ed25519 key for the host, which the server does not have: the deprecated one.
const fakeKey = (() => {
  const raw = made.subarray(made.length - 32);
  const t = Buffer.from('ssh-ed25519');
  const b = Buffer.alloc(8 + t.length + 32);
  b.writeUInt32BE(t.length, 0);
  t.copy(b, 4);
  b.writeUInt32BE(32, 4 + t.length);
  raw.copy(b, 8 + t.length);
  return `ssh-ed25519 ${b.toString('base64')}`;
})();

function entries(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [hosts, , b64] = l.trim().split(/\s+/);
      return `${hosts} ${b64}`;
    })
    .sort();
}

function openssh(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** The file changes asynchronously (in the daemon): wait until it stops changing. */
async function settled(file: string): Promise<string[]> {
  let last = entries(file).join('\n');
  for (let i = 0; i < 15; i++) {
    await sleep(200);
    const now = entries(file).join('\n');
    if (now === last && i >= 5) break;
    last = now;
  }
  return entries(file);
}

describe('UpdateHostKeys as OpenSSH 9.2', () => {
  let sshd: StartedSshd;
  let box: MuxSandbox;
  let name: string;
  let ed: string;
  beforeAll(async () => {
    sshd = await startSshd();
    box = new MuxSandbox(sshd);
    name = sshd.knownHostsName;
    ed = sshd.hostKeys.find((k) => k.startsWith('ssh-ed25519 '))!;
  });
  afterAll(async () => {
    await box?.cleanup();
    await sshd?.stop();
  });

  // `extra` comes first: the first value of a keyword wins, in ssh and in sshmux.
  const args = (files: string[], extra: string[]) => [
    '-F',
    'none',
    ...extra,
    '-i',
    sshd.keyPath,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${files.join(' ')}`,
    '-p',
    String(sshd.port),
    `root@${sshd.host}`,
    'true',
  ];

  /** Run the three clients on three copies of `text`; returns the three final entry lists. */
  /**
   * Run the three clients, each on its own copies of `texts` (the UserKnownHostsFile list);
   * returns each client's final entries, file by file.
   */
  async function runAll(texts: string[], extra: string[]): Promise<[string[][], string[][], string[][]]> {
    const stamp = Date.now();
    const sets = ['openssh', 'direct', 'daemon'].map((n) =>
      texts.map((_, i) => path.join(box.runtimeDir, `kh.${n}.${stamp}.${i}`)),
    );
    for (const files of sets) {
      for (const [i, f] of files.entries()) writeFileSync(f, texts[i]!, { mode: 0o600 });
    }
    const o = await openssh(args(sets[0]!, extra));
    expect(o.code, o.stderr).toBe(0);
    const d = await box.run(args(sets[1]!, extra), { env: { SSHMUX_NO_DAEMON: '1' } });
    expect(d.code, d.stderr).toBe(0);
    const m = await box.run(args(sets[2]!, extra));
    expect(m.code, m.stderr).toBe(0);
    const [o2, d2, m2] = await Promise.all(sets.map((files) => Promise.all(files.map((f) => settled(f)))));
    return [o2!, d2!, m2!];
  }

  const all = () => sshd.hostKeys.map((k) => `${name} ${k.split(' ')[1]}`).sort();

  it('learns the other host keys into the first file, as ssh does', async () => {
    const [[o], [d], [m]] = await runAll([`${name} ${ed}\n`], ['-o', 'UpdateHostKeys=yes']);
    expect(o).toEqual(all());
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('removes a key the server no longer has, as ssh does', async () => {
    const [[o], [d], [m]] = await runAll(
      [`${name} ${ed}\n${name} ${fakeKey}\n`],
      ['-o', 'UpdateHostKeys=yes'],
    );
    expect(o).toEqual(all());
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('says what it learned and deprecated at VERBOSE (-v) in the words ssh uses', async () => {
    const text = `${name} ${ed}\n${name} ${fakeKey}\n`;
    const files = ['o', 'd'].map((n) => path.join(box.runtimeDir, `kh.v.${n}`));
    for (const f of files) writeFileSync(f, text, { mode: 0o600 });
    const extra = ['-v', '-o', 'UpdateHostKeys=yes'];
    const o = await openssh(args([files[0]!], extra));
    const d = await box.run(args([files[1]!], extra), { env: { SSHMUX_NO_DAEMON: '1' } });
    // The file names differ between the two copies: each is written FILE.
    const said = (stderr: string, file: string) =>
      (
        stderr
          .split(file)
          .join('FILE')
          .match(
            /(Learned new|Deprecating obsolete) hostkey: \S+ SHA256:\S+|FILE:\d+: Removed \S+ key for host \S+|Adding new key for \S+ to FILE: \S+ SHA256:\S+/g,
          ) ?? []
      ).sort();
    expect(said(o.stderr, files[0]!)).toHaveLength(6);
    expect(said(d.stderr, files[1]!)).toEqual(said(o.stderr, files[0]!));
  });

  it('moves this host to the first file: its lines leave the other files, as ssh does', async () => {
    const rsaKey = sshd.hostKeys.find((k) => k.startsWith('ssh-rsa '))!;
    const second = `# kept\nother.example ${fakeKey}\n${name} ${rsaKey}\n`;
    const [o, d, m] = await runAll([`${name} ${ed}\n`, second], ['-o', 'UpdateHostKeys=yes']);
    expect(o[0]).toEqual(all());
    expect(o[1]).toEqual([`other.example ${fakeKey.split(' ')[1]}`]);
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('learns nothing when the host key was only now accepted (accept-new), as ssh does', async () => {
    const [[o], [d], [m]] = await runAll(
      [''],
      ['-o', 'StrictHostKeyChecking=accept-new', '-o', 'UpdateHostKeys=yes'],
    );
    // Only the key the handshake used is recorded: ssh does not trust it enough to learn more.
    expect(o).toHaveLength(1);
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('under CheckHostIP to a loopback peer writes no address (ssh turns the check off there)', async () => {
    const [[o], [d], [m]] = await runAll(
      [`${name} ${ed}\n`],
      ['-o', 'CheckHostIP=yes', '-o', 'UpdateHostKeys=yes'],
    );
    expect(o).toEqual(all());
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('changes nothing under UpdateHostKeys=no', async () => {
    const text = `${name} ${ed}\n${name} ${fakeKey}\n`;
    const [[o], [d], [m]] = await runAll([text], ['-o', 'UpdateHostKeys=no']);
    expect(o).toEqual(entries2(text));
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });

  it('skips the update when a wildcard line names the host, as ssh does', async () => {
    const text = `${name} ${ed}\n[127.0.0.*]:${sshd.port} ${fakeKey}\n`;
    const [[o], [d], [m]] = await runAll([text], ['-o', 'UpdateHostKeys=yes']);
    expect(o).toEqual(entries2(text));
    expect(d).toEqual(o);
    expect(m).toEqual(o);
  });
});

function entries2(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [hosts, , b64] = l.split(' ');
      return `${hosts} ${b64}`;
    })
    .sort();
}
