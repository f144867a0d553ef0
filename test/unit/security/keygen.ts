import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

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

export function makeKey(dir: string, name: string, type = 'ed25519', passphrase = ''): TestKey {
  const file = path.join(dir, name);
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
  const fingerprint = sshKeygen(['-l', '-E', 'sha256', '-f', `${file}.pub`]).split(/\s+/)[1] ?? '';
  return { file, type: keyType, b64, blob: Buffer.from(b64, 'base64'), fingerprint };
}
