import { PassThrough } from 'node:stream';
import { assertConnectable } from '../config/keyword-support.js';
import { asSshLogLines } from '../config/ssh-error.js';
import type { Logger } from '../logger.js';
import { SftpClient, type SftpClientOptions } from '../transfer/sftp-client.js';
import { parseSshArgs } from './ssh-args.js';
import { applySshChecks } from './ssh-checks.js';
import { environmentToSend, resolveSshHost } from './ssh-config.js';
import type { RunningSession } from './ssh-direct.js';
import { sshFailureText } from './ssh-failure.js';
import { startSession } from './ssh-start.js';

/** Where one scp/sftp operand's session goes: `[user@]host` and the port from scp -P or an scp:// URI. */
export interface SessionTarget {
  host: string;
  user?: string | undefined;
  port?: number | undefined;
}

/**
 * What scp.c and sftp.c put on every ssh command line: no X11, no LocalCommand, no forwards, no
 * RemoteCommand, no pty, no agent — the subsystem session alone.
 */
const SUBSYSTEM_OPTIONS = [
  '-oPermitLocalCommand=no',
  '-oClearAllForwardings=yes',
  '-oRemoteCommand=none',
  '-oRequestTTY=no',
  '-oForwardAgent=no',
];

/** An open SFTP session and how to end it (returns the session's exit status, as ssh's). */
export interface OpenSftp {
  client: SftpClient;
  close(): Promise<number>;
}

/**
 * Open the `sftp` subsystem on `target` the way `sshmux ssh -s host sftp` would (same host
 * resolution, checks and daemon/in-process choice), and start an SFTP client on its stdio.
 * `sshOptions` are ssh's own flags (-i, -F, -o, -J, -4, -6, -C, -c, -v, -q). Failures are printed
 * as ssh prints them and rethrown.
 */
export async function openSftpSession(
  sshOptions: readonly string[],
  target: SessionTarget,
  stderr: NodeJS.WritableStream,
  logger: Logger,
  options: SftpClientOptions = {},
): Promise<OpenSftp> {
  const argv = [
    ...sshOptions,
    ...SUBSYSTEM_OPTIONS,
    ...(target.user !== undefined ? ['-l', target.user] : []),
    ...(target.port !== undefined ? ['-p', String(target.port)] : []),
    '--',
    target.host,
  ];
  const args = parseSshArgs(argv);
  const warn = (line: string) => {
    if (!args.quiet) stderr.write(asSshLogLines(line));
  };
  const host = applySshChecks(args, await resolveSshHost(args, process.cwd(), warn), warn);
  assertConnectable(host);
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const session: RunningSession = await startSession(
    {
      host,
      kind: 'subsystem',
      command: 'sftp',
      env: environmentToSend(host),
      pty: false,
      quiet: args.quiet,
    },
    { stdin: toServer, stdout: fromServer, stderr },
    logger,
  );
  // The session ending (server gone) ends what the client reads, so waiting requests fail.
  const exited = session.exited.finally(() => fromServer.end());
  exited.catch(() => {});
  let client: SftpClient;
  try {
    client = await SftpClient.start(fromServer, toServer, options);
  } catch (err) {
    await session.close(true);
    throw err;
  }
  return {
    client,
    close: async () => {
      client.end();
      const status = await exited.then(
        (e) => e.code ?? 255,
        () => 255,
      );
      await session.close();
      return status;
    },
  };
}

/** ssh's message for a failure to connect, as `sshmux ssh` prints it. */
export function printSshFailure(err: unknown, quiet: boolean, stderr: NodeJS.WritableStream): void {
  stderr.write(sshFailureText(err, quiet));
}
