import ssh2 from 'ssh2';

/**
 * A fresh ed25519 key pair (OpenSSH private key, `ssh-ed25519 …` public line). ssh2's
 * generator drops a leading zero byte of the public key about once in 256 keys, writing a key
 * ssh2 itself then rejects, so a key is returned only once ssh2 can read it back (the same
 * guard as test/helpers/sshd.ts's clientKey(), kept here so the embedded server never loads
 * testcontainers).
 */
export function freshEd25519(comment: string): { private: string; public: string } {
  for (let i = 0; i < 16; i++) {
    // ssh2 is CommonJS: its `utils` is reachable only through the default export under plain Node.
    const keys = ssh2.utils.generateKeyPairSync('ed25519', { comment });
    if (!(ssh2.utils.parseKey(keys.private) instanceof Error)) return keys;
  }
  throw new Error('ssh2 produced no readable ed25519 key in 16 tries');
}
