/**
 * Mutual proof of the shared token for the daemon hello. The token never travels: whoever holds
 * the endpoint's name (on Windows a pipe name any local user can take first; on POSIX a socket
 * path) learns nothing from a client that lets it authenticate. The daemon proves first, over
 * both sides' fresh nonces, and the client answers only a daemon that did.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, hex: fresh per connection on each side. */
export function newNonce(): string {
  return randomBytes(32).toString('hex');
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A nonce as a peer must send it (lowercase hex of 32 bytes). */
export function isNonce(value: unknown): value is string {
  return typeof value === 'string' && HEX64.test(value);
}

/**
 * The daemon's and the client's proofs differ by role, so neither can be reflected as the
 * other's; both bind the two nonces, so no proof can be replayed on another connection.
 */
export function helloProof(
  token: string,
  role: 'daemon' | 'client',
  clientNonce: string,
  daemonNonce: string,
): string {
  return createHmac('sha256', token)
    .update(`sshmux mux hello v1\0${role}\0${clientNonce}\0${daemonNonce}`)
    .digest('hex');
}

/** Whether `proof` is the right one, compared in constant time. */
export function proofMatches(
  token: string,
  role: 'daemon' | 'client',
  clientNonce: string,
  daemonNonce: string,
  proof: unknown,
): boolean {
  if (typeof proof !== 'string' || !HEX64.test(proof)) return false;
  const expected = Buffer.from(helloProof(token, role, clientNonce, daemonNonce), 'hex');
  return timingSafeEqual(expected, Buffer.from(proof, 'hex'));
}
