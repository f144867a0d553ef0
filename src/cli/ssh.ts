import os from 'node:os';
import { pipeline } from 'node:stream/promises';
import type { StrictHostKeyChecking } from '../config/host-config.js';
import { plainHostConfig } from '../config/plain.js';
import { ConfigError, isSshmuxError } from '../errors.js';
import { SshPool } from '../pool/ssh-pool.js';
import { createAuthProvider } from '../security/auth.js';
import { createHostKeyVerifier } from '../security/verify-host-key.js';
import type { CliContext } from './context.js';
import { parseSshArgs } from './ssh-args.js';

const STRICT_VALUES: Record<string, StrictHostKeyChecking> = {
  yes: 'yes',
  no: 'no',
  off: 'no',
  'accept-new': 'accept-new',
  ask: 'ask',
};

/** `sshmux ssh [-p port] [-l user] [-i key] [-o K=V] dest command…`: exit with the remote status, 255 for our own errors. */
export async function runSshCli(argv: string[], ctx: CliContext): Promise<number> {
  try {
    const args = parseSshArgs(argv);
    let strict: StrictHostKeyChecking | undefined;
    for (const [k, v] of args.options) {
      if (k.toLowerCase() === 'stricthostkeychecking' && strict === undefined) {
        strict = STRICT_VALUES[v.toLowerCase()];
        if (!strict) throw new ConfigError(`sshmux ssh: bad StrictHostKeyChecking value \`${v}\``);
      }
    }
    let [user, host] = args.destination.includes('@')
      ? [
          args.destination.slice(0, args.destination.lastIndexOf('@')),
          args.destination.slice(args.destination.lastIndexOf('@') + 1),
        ]
      : [undefined, args.destination];
    user = args.user ?? user;
    const hostConfig = plainHostConfig({
      host: host!,
      ...(args.port !== undefined && { port: args.port }),
      ...(user !== undefined && { user }),
      ...(args.identityFiles.length > 0 && { identityFiles: args.identityFiles }),
      ...(strict !== undefined && { strictHostKeyChecking: strict }),
    });
    if (args.command.length === 0)
      throw new ConfigError('sshmux ssh: interactive sessions are not supported yet; give a command');
    // One process, one pool: the same code path a daemon-backed front will use later.
    const pool = new SshPool({
      hostKeyVerifier: createHostKeyVerifier(),
      authProvider: createAuthProvider(),
      logger: ctx.logger,
    });
    try {
      // ssh joins the command words with spaces and lets the remote shell parse them.
      const proc = await pool.spawn(hostConfig, args.command.join(' '));
      if (process.stdin.isTTY) proc.stdin.end();
      else process.stdin.pipe(proc.stdin);
      await Promise.all([
        pipeline(proc.stdout, process.stdout, { end: false }),
        pipeline(proc.stderr, process.stderr, { end: false }),
      ]);
      process.stdin.unpipe(proc.stdin);
      process.stdin.destroy();
      const { code, signal } = await proc.exited;
      await pool.close();
      return code ?? (signal ? 128 + (os.constants.signals[`SIG${signal}` as NodeJS.Signals] ?? 15) : 255);
    } finally {
      pool.destroy();
    }
  } catch (err) {
    const msg = isSshmuxError(err) ? err.message : String((err as Error)?.message ?? err);
    ctx.stderr.write(`sshmux: ${msg}\n`);
    return 255;
  }
}
