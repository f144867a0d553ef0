import { createHash } from 'node:crypto';

/** OpenSSH's fingerprint form: `SHA256:` + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The algorithm name stored at the start of an SSH public key blob (`ssh-ed25519`, …). */
export function keyTypeOfBlob(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const len = blob.readUInt32BE(0);
  if (len > blob.length - 4 || len > 64) return 'unknown';
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The short upper-case name OpenSSH prints in prompts: `ED25519`, `RSA`, `ECDSA`. */
export function displayKeyType(keyType: string): string {
  if (keyType === 'ssh-ed25519') return 'ED25519';
  if (keyType === 'ssh-rsa') return 'RSA';
  if (keyType === 'ssh-dss') return 'DSA';
  if (keyType.startsWith('ecdsa-sha2-')) return 'ECDSA';
  if (keyType.startsWith('sk-ssh-ed25519')) return 'ED25519-SK';
  if (keyType.startsWith('sk-ecdsa')) return 'ECDSA-SK';
  return keyType.toUpperCase();
}
