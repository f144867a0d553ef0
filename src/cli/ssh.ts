import { pipeline } from 'node:stream/promises';
import type { StrictHostKeyChecking } from '../config/host-config.js';
import { plainHostConfig } from '../config/plain.js';
import { Connection } from '../connection/connection.js';
import { ConfigError, isSshmuxError } from '../errors.js';
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
    const conn = new Connection(hostConfig, {
      hostKeyVerifier: createHostKeyVerifier(),
      authProvider: createAuthProvider(),
      logger: ctx.logger,
    });
    await conn.connect();
    try {
      const channel = await conn.exec(args.command.join(' '));
      const exit = new Promise<number>((resolve) => {
        channel.on('exit', (code: number | null, signal?: string) =>
          resolve(code ?? (signal ? 128 + 15 : 255)),
        );
        channel.on('close', () => resolve(255));
      });
      if (process.stdin.isTTY) channel.end();
      else process.stdin.pipe(channel);
      await Promise.all([
        pipeline(channel, process.stdout, { end: false }),
        pipeline(channel.stderr, process.stderr, { end: false }),
      ]);
      process.stdin.unpipe(channel);
      process.stdin.destroy();
      return await exit;
    } finally {
      conn.close();
    }
  } catch (err) {
    const msg = isSshmuxError(err) ? err.message : String((err as Error)?.message ?? err);
    ctx.stderr.write(`sshmux: ${msg}\n`);
    return 255;
  }
}
