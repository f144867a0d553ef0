import type { ErrorKind } from '../../src/errors.js';

/** The error kinds DESIGN.md lists, written out here as the tests' own oracle: anything else is a bug. */
export const KINDS: ReadonlySet<ErrorKind> = new Set([
  'auth',
  'host-key',
  'network',
  'timeout',
  'channel',
  'remote',
  'config',
  'verify',
  'local',
  'aborted',
]);
