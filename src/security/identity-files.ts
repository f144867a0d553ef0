import { readFile, stat } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';

// ssh2 is CommonJS; Node's ESM loader does not expose `utils` by name.
const { utils } = ssh2;

/** A parsed key, or the reason it could not be parsed. */
function parse(data: Buffer | string, passphrase?: string): ParsedKey | Error {
  const r = utils.parseKey(data, passphrase);
  if (r instanceof Error) return r;
  return Array.isArray(r) ? (r[0] ?? new Error('no key in file')) : r;
}

/** The public half of an `openssh-key-v1` private key, readable without the passphrase. */
function publicBlobFromOpensshPrivate(text: string): Buffer | undefined {
  const m = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text);
  if (!m?.[1]) return undefined;
  const buf = Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (buf.subarray(0, magic.length).toString('latin1') !== magic) return undefined;
  let p = magic.length;
  const readString = (): Buffer | undefined => {
    if (p + 4 > buf.length) return undefined;
    const len = buf.readUInt32BE(p);
    p += 4;
    if (p + len > buf.length) return undefined;
    const s = buf.subarray(p, p + len);
    p += len;
    return s;
  };
  // ciphername, kdfname, kdfoptions, then the key count and the first public key.
  if (!readString() || !readString() || !readString() || p + 4 > buf.length) return undefined;
  p += 4;
  return readString();
}

/**
 * The public key blob of an identity, as OpenSSH's `sshkey_load_public` finds it: from
 * `file.pub`, else from the private file when that is unencrypted or in the new OpenSSH format.
 */
export async function readIdentityPublicBlob(file: string): Promise<Buffer | undefined> {
  try {
    const pub = parse(await readFile(`${file}.pub`));
    if (!(pub instanceof Error)) return pub.getPublicSSH();
  } catch {
    // no .pub: fall through to the private file
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const key = parse(text);
  if (!(key instanceof Error)) return key.getPublicSSH();
  return publicBlobFromOpensshPrivate(text);
}

/** Whether the identity file exists as a regular file. */
export async function identityExists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/**
 * OpenSSH's `sshkey_perm_ok`: a private key of ours that group or others may access is
 * ignored. Returns the warning, or undefined when the file is fine. Not checked on Windows.
 */
export async function unprotectedKeyWarning(
  file: string,
  platform: NodeJS.Platform,
): Promise<string | undefined> {
  if (platform === 'win32') return undefined;
  const st = await stat(file);
  if (st.uid !== process.getuid?.() || (st.mode & 0o077) === 0) return undefined;
  const perms = (st.mode & 0o777).toString(8).padStart(4, '0');
  return `UNPROTECTED PRIVATE KEY FILE: permissions ${perms} for '${file}' are too open; this private key will be ignored`;
}

export type DecryptResult = { key: ParsedKey } | { error: string };

/**
 * Load a private key, asking `passphrase` (`attempts` times: ssh's NumberOfPasswordPrompts) when it is encrypted.
 * Never returns or logs the passphrase.
 */
export async function loadPrivateKey(
  file: string,
  passphrase: ((file: string) => Promise<string | undefined>) | undefined,
  attempts = 3,
): Promise<DecryptResult> {
  const data = await readFile(file);
  const plain = parse(data);
  if (!(plain instanceof Error)) {
    return plain.isPrivateKey() ? { key: plain } : { error: 'not a private key' };
  }
  if (!/encrypted|passphrase/i.test(plain.message)) return { error: `unsupported key (${plain.message})` };
  if (!passphrase) return { error: 'encrypted and no passphrase source was given' };
  for (let attempt = 0; attempt < attempts; attempt++) {
    const pass = await passphrase(file);
    if (pass === undefined) return { error: 'encrypted and no passphrase was given' };
    const key = parse(data, pass);
    if (!(key instanceof Error)) return { key };
  }
  return { error: 'bad passphrase' };
}
