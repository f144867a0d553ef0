import { ConfigError } from '../errors.js';

/**
 * A `-o` argument as OpenSSH reads it: `Key=Value` or `Key Value`, whitespace around the
 * separator allowed. The value must not be empty.
 */
export function parseOptionArg(text: string): [string, string] {
  const m = /^\s*([A-Za-z0-9]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(text);
  if (!m || m[2] === '') throw new ConfigError(`bad -o option \`${text}\` (expected Key=Value)`);
  return [m[1]!, m[2]!];
}
