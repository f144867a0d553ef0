import type { DiffCase } from './run-both.js';

/** Unknown, deprecated and unsupported keywords; IgnoreUnknown (readconf.c parse_token and its callers). */
const UNKNOWN: DiffCase[] = [
  { name: 'unknown -o option', argv: ['-G', '-o', 'NoSuchOption=1', 'h'] },
  {
    name: 'typo in a file',
    files: { config: 'Host *\n  Chipers aes128-ctr\n  Port 2022\n' },
    argv: ['-G', 'h'],
  },
  {
    name: 'bad options counted per file',
    files: { config: 'Chipers x\nFoo bar\nPort 22\n' },
    argv: ['-G', 'h'],
  },
  { name: 'typo in an inactive block', files: { config: 'Host other\n  Chipers x\n' }, argv: ['-G', 'h'] },
  {
    name: 'IgnoreUnknown applies to later lines only',
    files: { config: 'Chipers x\nIgnoreUnknown Chip*\nChipers y\n' },
    argv: ['-G', 'h'],
  },
  {
    name: 'IgnoreUnknown pattern list',
    files: { config: 'IgnoreUnknown UseKeychain,Frob*\nUseKeychain yes\nFrobnicate 3\nPort 2034\n' },
    argv: ['-G', 'h'],
  },
  {
    name: 'IgnoreUnknown from the command line',
    files: { config: 'UseKeychain yes\n' },
    argv: ['-G', '-o', 'IgnoreUnknown=usekeychain', 'h'],
  },
  {
    name: 'IgnoreUnknown does not hide a bad value',
    files: { config: 'IgnoreUnknown *\nPort x\n' },
    argv: ['-G', 'h'],
  },
  {
    name: 'deprecated and ignored keywords',
    files: {
      config:
        'Protocol 2\nUseRoaming no\nCipher 3des\nFallBackToRsh no\nUseRsh no\nRhostsAuthentication no\nUsePrivilegedPort no\nPort 2200\n',
    },
    argv: ['-G', 'h'],
  },
  {
    name: 'unsupported keywords warn and continue',
    files: {
      config:
        'RhostsRSAAuthentication no\nRSAAuthentication yes\nCompressionLevel 6\nAFSTokenPassing no\nKerberosAuthentication no\nKerberosTGTPassing no\n',
    },
    argv: ['-G', 'h'],
  },
  {
    name: 'unsupported keyword warnings are quiet with -q',
    files: { config: 'CompressionLevel 6\n' },
    argv: ['-q', '-G', 'h'],
  },
  { name: 'unsupported keyword on the command line', argv: ['-G', '-o', 'CompressionLevel=3', 'h'] },
  {
    name: 'bad values in a file',
    files: { config: 'Port x\nPort 99999\nBatchMode maybe\nConnectTimeout 1q\n' },
    argv: ['-G', 'h'],
  },
  { name: 'bad value on the command line', argv: ['-G', '-o', 'Port=x', 'h'] },
  { name: 'missing value on the command line', argv: ['-G', '-o', 'BatchMode=maybe', 'h'] },
];

export const CASES: readonly DiffCase[] = [...UNKNOWN];
