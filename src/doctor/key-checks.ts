import { access, constants, readFile, stat } from 'node:fs/promises';
import ssh2 from 'ssh2';
import type { HostConfig } from '../config/host-config.js';
import { displayKeyType, fingerprintSha256, keyTypeOfBlob } from '../security/fingerprint.js';
import { readIdentityPublicBlob, unprotectedKeyWarning } from '../security/identity-files.js';
import { check, type DoctorCheck } from './types.js';

const { utils } = ssh2;

async function exists(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** One identity file: usable (and whether encrypted), or why not. `undefined` for an absent default. */
async function keyFileCheck(
  file: string,
  origin: string | undefined,
  platform: NodeJS.Platform,
): Promise<{ check: DoctorCheck; usable: boolean } | undefined> {
  const from = origin ?? 'default';
  const base = { section: 'keys' as const, id: 'key' };
  if (!(await exists(file))) {
    if (origin === undefined) return undefined;
    return {
      usable: false,
      check: check({
        ...base,
        status: 'warn',
        summary: `${file} (IdentityFile, ${from}): no such file`,
        advice: `fix the path at ${from}, or create the key: \`ssh-keygen -t ed25519 -f ${file}\``,
        data: { file, origin: from, exists: false },
      }),
    };
  }
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    return {
      usable: false,
      check: check({
        ...base,
        status: 'fail',
        summary: `${file} (${from}): not readable: ${(err as Error).message}`,
        advice: `make it yours and private: \`chown $USER ${file} && chmod 600 ${file}\``,
        data: { file, origin: from, exists: true, readable: false },
      }),
    };
  }
  const tooOpen = await unprotectedKeyWarning(file, platform);
  const parsed = utils.parseKey(await readFile(file));
  const encrypted = parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
  const key = parsed instanceof Error ? undefined : Array.isArray(parsed) ? parsed[0] : parsed;
  const blob = key?.getPublicSSH() ?? (await readIdentityPublicBlob(file));
  const what = blob ? `${displayKeyType(keyTypeOfBlob(blob))} ${fingerprintSha256(blob)}` : 'unknown type';
  const certificate = (await exists(`${file}-cert.pub`)) ? `${file}-cert.pub` : undefined;
  const data = {
    file,
    origin: from,
    exists: true,
    readable: true,
    encrypted,
    ...(blob && { type: keyTypeOfBlob(blob), fingerprint: fingerprintSha256(blob) }),
    ...(certificate && { certificate }),
  };
  if (tooOpen !== undefined) {
    return {
      usable: false,
      check: check({
        ...base,
        status: 'fail',
        summary: `${file} (${from}): ${what}: ${tooOpen}`,
        advice: `\`chmod 600 ${file}\``,
        data,
      }),
    };
  }
  if (parsed instanceof Error && !encrypted) {
    return {
      usable: false,
      check: check({
        ...base,
        status: 'fail',
        summary: `${file} (${from}): not a key sshmux can read: ${parsed.message}`,
        advice: 'convert it to the OpenSSH format (`ssh-keygen -p -f FILE`) or use another key',
        data,
      }),
    };
  }
  const certNote = certificate
    ? `; its certificate ${certificate} is not offered (sshmux does not support user certificates)`
    : '';
  return {
    usable: true,
    check: check({
      ...base,
      status: certificate ? 'warn' : 'ok',
      summary: `${file} (${from}): ${what}, ${encrypted ? 'encrypted' : 'not encrypted'}${certNote}`,
      ...(certificate && {
        advice: 'the plain key is offered instead: make sure the server also accepts the key itself',
      }),
      ...(encrypted &&
        !certificate && {
          advice:
            '`sshmux ssh` asks for its passphrase on the terminal; scripts and doctor cannot: `ssh-add` it to the agent',
        }),
      data,
    }),
  };
}

/** The identity files the host would offer, then one line saying whether anything at all would be. */
export async function keyChecks(
  host: HostConfig,
  agentKeys: number,
  platform: NodeJS.Platform,
): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  const origins = host.origins?.get('identityfile');
  const configured = origins !== undefined;
  if (!host.authentication.pubkey) {
    return [
      check({
        section: 'keys',
        id: 'keys',
        status: 'ok',
        summary: 'PubkeyAuthentication no: no keys are offered',
        data: { pubkey: false },
      }),
    ];
  }
  let usable = 0;
  const absentDefaults: string[] = [];
  for (let i = 0; i < host.identityFiles.length; i++) {
    const file = host.identityFiles[i]!;
    const r = await keyFileCheck(file, configured ? origins[i] : undefined, platform);
    if (r === undefined) absentDefaults.push(file);
    else {
      out.push(r.check);
      if (r.usable) usable++;
    }
  }
  const fromAgent = host.identitiesOnly ? 0 : agentKeys;
  const total = usable + fromAgent;
  const agentText = host.identitiesOnly
    ? 'IdentitiesOnly yes: agent keys other than these files are not offered'
    : `${agentKeys} from the agent`;
  out.push(
    check({
      section: 'keys',
      id: 'keys',
      status: total > 0 ? 'ok' : 'warn',
      summary:
        total > 0
          ? `${usable} key file(s) and ${agentText} would be offered`
          : `no usable key would be offered (${agentText}${absentDefaults.length > 0 ? `; none of ${absentDefaults.join(', ')} exists` : ''})`,
      ...(total === 0 && {
        advice:
          'create a key (`ssh-keygen -t ed25519`) and authorize it on the server (`ssh-copy-id user@host`), or `ssh-add` one to the agent',
      }),
      data: { files: usable, agent: fromAgent, identitiesOnly: host.identitiesOnly, absentDefaults },
    }),
  );
  return out;
}
