import { createRequire } from 'node:module';
import { nativeCryptoLoaded } from '../connection/native-crypto.js';

const require = createRequire(import.meta.url);

/** sshmux's own version, read from package.json so it never drifts. */
export const VERSION: string = (require('../../package.json') as { version: string }).version;

/** `sshmux --version -v`: what is running, and whether ssh2's fast native ciphers are present. */
export function versionText(verbose: boolean): string {
  if (!verbose) return `sshmux ${VERSION}\n`;
  const ssh2Version = (require('ssh2/package.json') as { version: string }).version;
  const native = nativeCryptoLoaded();
  return [
    `sshmux ${VERSION}`,
    `node ${process.version} (${process.platform}-${process.arch})`,
    `ssh2 ${ssh2Version}`,
    `ssh2 native crypto binding: ${native ? 'loaded' : 'NOT loaded (pure-JS ciphers: slower; rebuild ssh2 with its install script)'}`,
    '',
  ].join('\n');
}
