/**
 * The modulus size of an RSA public key in SSH wire format (`string "ssh-rsa", mpint e, mpint n`),
 * for RequiredRSASize; undefined for any other key type (certificates included).
 */
export function rsaModulusBits(blob: Buffer): number | undefined {
  let at = 0;
  const next = (): Buffer | undefined => {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    const field = blob.subarray(at + 4, at + 4 + len);
    at += 4 + len;
    return field;
  };
  if (next()?.toString('latin1') !== 'ssh-rsa') return undefined;
  if (next() === undefined) return undefined;
  const n = next();
  if (n === undefined) return undefined;
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i]!));
}

/** OpenSSH's SSH_RSA_MINIMUM_MODULUS_SIZE: no RequiredRSASize lets a shorter key in. */
const RSA_FLOOR = 1024;

/** OpenSSH's sshkey_check_rsa_length: false for an RSA key shorter than `required` bits (or 1024). */
export function rsaLengthAllowed(blob: Buffer, required: number): boolean {
  const bits = rsaModulusBits(blob);
  return bits === undefined || bits >= Math.max(required, RSA_FLOOR);
}
