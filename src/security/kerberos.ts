import { existsSync } from 'node:fs';

/** Whether a Kerberos credential cache seems to exist (KRB5CCNAME, else the default file cache). */
export function kerberosCredentialsPresent(env: NodeJS.ProcessEnv): boolean {
  const cc = env.KRB5CCNAME;
  if (cc !== undefined && cc !== '') {
    const file = cc.startsWith('FILE:') ? cc.slice(5) : cc.includes(':') ? undefined : cc;
    // Non-file caches (KEYRING:, KCM:, DIR:, API:) cannot be checked here: assume credentials.
    return file === undefined || existsSync(file);
  }
  const uid = process.getuid?.();
  return uid !== undefined && existsSync(`/tmp/krb5cc_${uid}`);
}
