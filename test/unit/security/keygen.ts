import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { onWindows } from '../../helpers/posix-only.js';

/** A key made by the real `ssh-keygen`, with its public line split up. */
export interface TestKey {
  file: string;
  type: string;
  b64: string;
  blob: Buffer;
  /** Fingerprint as `ssh-keygen -lf` prints it. */
  fingerprint: string;
}

export function sshKeygen(args: string[], input?: string): string {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * A key pair from ssh2's generator, which now and then (a few in a thousand ed25519 keys) writes
 * a private key that neither its own parser nor ssh-keygen accepts: generate again then.
 */
export function ssh2KeyPair(
  type: 'ed25519' | 'rsa' | 'ecdsa',
  opts: object = {},
): { private: string; public: string } {
  // @types/ssh2's overloads take one key type at a time, not a union of them.
  const generate = ssh2.utils.generateKeyPairSync as (
    t: string,
    o: object,
  ) => { private: string; public: string };
  for (let i = 0; i < 20; i++) {
    const pair = generate(type, opts);
    const passphrase = (opts as { passphrase?: string }).passphrase;
    if (!(ssh2.utils.parseKey(pair.private, passphrase) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 made no parseable ${type} key in 20 tries`);
}

/**
 * Windows has no ssh-keygen: there the key files come from ssh2's generator (the same OpenSSH
 * format) and the fingerprint is computed as ssh-keygen defines it; the tests that compare
 * against ssh-keygen itself skip there (test/helpers/posix-only.ts).
 */
function generateWithoutKeygen(file: string, type: string, passphrase: string, comment: string): void {
  const kind = type === 'rsa' ? 'rsa' : type === 'ecdsa' ? 'ecdsa' : 'ed25519';
  const opts = {
    comment,
    ...(kind === 'rsa' && { bits: 2048 }),
    ...(kind === 'ecdsa' && { bits: 256 }),
    ...(passphrase !== '' && { passphrase, cipher: 'aes256-ctr', rounds: 16 }),
  };
  const pair = ssh2KeyPair(kind, opts);
  writeFileSync(file, pair.private, { mode: 0o600 });
  writeFileSync(`${file}.pub`, `${pair.public}\n`);
}

export function makeKey(dir: string, name: string, type = 'ed25519', passphrase = ''): TestKey {
  const file = path.join(dir, name);
  if (onWindows) generateWithoutKeygen(file, type, passphrase, name);
  else
    sshKeygen([
      '-q',
      '-t',
      type,
      ...(type === 'rsa' ? ['-b', '2048'] : []),
      '-N',
      passphrase,
      '-C',
      name,
      '-f',
      file,
    ]);
  const [keyType, b64] = readFileSync(`${file}.pub`, 'utf8').trim().split(/\s+/) as [string, string];
  const blob = Buffer.from(b64, 'base64');
  const fingerprint = onWindows
    ? `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
    : (sshKeygen(['-l', '-E', 'sha256', '-f', `${file}.pub`]).split(/\s+/)[1] ?? '');
  return { file, type: keyType, b64, blob, fingerprint };
}
