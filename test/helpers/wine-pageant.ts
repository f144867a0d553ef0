import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedSshd } from './sshd.js';
import { type StartedWineNode, setupFile, startWine, type WineSetup, winPathBackslash } from './wine.js';

// The Windows tier's Pageant: test/windows/pageant.c under Wine, owning the "Pageant" window that
// ssh2's util/pagent.exe looks for, relaying each request over loopback TCP to OpenSSH's own
// ssh-agent on this machine. The agent holds one key, made for the test and authorized for
// `backup` in the container, whose file is deleted once the agent has it: only the agent can sign.

export interface StartedPageant {
  /** The agent key as `ssh-add -l` prints it (bits, fingerprint, comment, type). */
  readonly listed: string;
  /** The request types the agent was sent, in order (11 list, 13 sign). */
  requests(): string[];
  stop(): Promise<void>;
}

export const PAGEANT_KEY_COMMENT = 'tier-pageant-key';

/** A real ssh-agent holding a fresh key authorized for `backup`, and the Pageant in front of it. */
export async function startPageant(
  setup: WineSetup,
  sshd: StartedSshd,
  root: string,
): Promise<StartedPageant> {
  const exe = setupFile('pageant');
  // `dir` (ready, stop) is seen by the Pageant; the agent's socket and key stay on Linux.
  const dir = mkdtempSync(path.join(root, 'pageant-'));
  const own = mkdtempSync(path.join(os.tmpdir(), 'sshmux-pageant-'));
  const sock = path.join(own, 'agent.sock');
  const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  let bridge: net.Server | undefined;
  let pageant: StartedWineNode | undefined;
  const stop = async () => {
    if (pageant) {
      writeFileSync(path.join(dir, 'stop'), '');
      await pageant.done;
    }
    bridge?.close();
    agent.kill('SIGTERM');
    rmSync(own, { recursive: true, force: true });
  };
  try {
    await waitFor(() => existsSync(sock), 'ssh-agent did not create its socket within 5 s', 50);
    const env = { ...process.env, SSH_AUTH_SOCK: sock };
    const key = path.join(own, 'id_pageant');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', PAGEANT_KEY_COMMENT, '-f', key]);
    execFileSync('ssh-add', ['-q', key], { env, stdio: 'ignore' });
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    rmSync(key);
    rmSync(`${key}.pub`);
    await sshd.sh(
      `printf '%s\\n' '${pub}' >> /home/backup/.ssh/authorized_keys; ` +
        'chmod 600 /home/backup/.ssh/authorized_keys; chown backup:backup /home/backup/.ssh/authorized_keys',
    );
    const listed = execFileSync('ssh-add', ['-l'], { env, encoding: 'utf8' });
    const requests: string[] = [];
    bridge = await listenBridge(sock, requests);
    const port = (bridge.address() as net.AddressInfo).port;
    pageant = startWine(setup, [exe, String(port), winPathBackslash(dir)], {
      env: process.env,
      timeoutMs: 300_000,
    });
    const started = pageant;
    let exited = false;
    void started.done.then(() => {
      exited = true;
    });
    await waitFor(
      () => existsSync(path.join(dir, 'ready')) || exited,
      'the Pageant did not start within 30 s',
      300,
    );
    if (exited) throw new Error(`the Pageant exited at start: ${(await started.done).stderr}`);
    return { listed, requests: () => [...requests], stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Loopback TCP → the agent's socket, one connection per Pageant request, noting each type. */
function listenBridge(sock: string, requests: string[]): Promise<net.Server> {
  const server = net.createServer((client) => {
    const upstream = net.connect(sock);
    let head = Buffer.alloc(0);
    let need = 0;
    client.on('data', (chunk) => {
      // Frames are uint32 length + type byte…: note the type of each.
      let rest = Buffer.concat([head, chunk]);
      while (rest.length > 0) {
        if (need > 0) {
          const n = Math.min(need, rest.length);
          need -= n;
          rest = rest.subarray(n);
        } else if (rest.length >= 5) {
          requests.push(String(rest[4]));
          need = 4 + rest.readUInt32BE(0);
        } else break;
      }
      head = need > 0 ? Buffer.alloc(0) : rest;
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    for (const s of [client, upstream])
      s.on('error', () => (s === client ? upstream.destroy() : client.destroy()));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function waitFor(ready: () => boolean, message: string, tries: number): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (ready()) return;
    await sleep(100);
  }
  if (!ready()) throw new Error(message);
}
