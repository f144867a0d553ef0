import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { LocalError } from '../errors.js';
import { cliLogger, type Logger, silentLogger } from '../logger.js';
import { RateLimiter } from '../push/rate-limiter.js';
import type { CopyContext } from '../transfer/copy-context.js';
import { SCP_FATAL, ScpCopy } from '../transfer/scp-copy.js';
import { strerror } from '../transfer/strerror.js';
import type { CliContext } from './context.js';
import { openDirectServer } from './direct-server.js';
import { parseScpArgs, SCP_FATAL_EXIT, ScpArgError, type ScpArgs } from './scp-args.js';
import { parseOperand, type ScpOperand } from './scp-operand.js';
import { ScpProgress } from './scp-progress.js';
import { type OpenSftp, openSftpSession, printSshFailure, type SessionTarget } from './session-stream.js';
import { logVis } from './terminal-vis.js';

type Remote = Extract<ScpOperand, { kind: 'remote' }>;

/** The connection could not be made (ssh already said why): scp's last words, and 255. */
class ConnectionClosed extends Error {}

/**
 * `sshmux scp`: OpenSSH 9.2 scp's command line and SFTP mode, with the sessions opened as
 * `sshmux ssh` opens them (daemon or in-process). Exit 0, 1 when any file failed, 255 when a
 * connection failed or for scp's fatal errors.
 */
export async function runScpCli(
  argv: string[],
  ctx: CliContext,
  stdoutIsTty = process.stdout.isTTY === true,
): Promise<number> {
  let args: ScpArgs;
  try {
    args = parseScpArgs(argv);
  } catch (err) {
    if (!(err instanceof ScpArgError)) throw err;
    ctx.stderr.write(err.message);
    return err.exitCode;
  }
  const logger =
    args.verbose > 0
      ? cliLogger({ verbosity: ctx.verbosity + args.verbose, json: ctx.logJson })
      : silentLogger();
  let failed = false;
  // OpenSSH's log.c ends every line on stderr with CR LF.
  // Messages hold paths as latin1 byte strings; log.c's strnvis makes them safe.
  const print = (message: string) => ctx.stderr.write(logVis(`scp: ${message}\r\n`));
  const copyContext: CopyContext = {
    preserve: args.preserve,
    recursive: args.recursive,
    limiter: args.limitBytesPerSecond === undefined ? undefined : new RateLimiter(args.limitBytesPerSecond),
    error: (m) => {
      failed = true;
      print(m);
    },
    log: print,
    progress: stdoutIsTty && !args.quiet ? ScpProgress.for(ctx.stdout as NodeJS.WriteStream) : undefined,
  };
  // scp's killchild(): SIGINT, SIGTERM and SIGHUP end it with status 1; a file in transit goes with it.
  const temporaries = new Set<string>();
  copyContext.localTemporary = (p, exists) => {
    if (exists) temporaries.add(p.toString('latin1'));
    else temporaries.delete(p.toString('latin1'));
  };
  const onSignal = (): void => {
    for (const t of temporaries) rmSync(Buffer.from(t, 'latin1'), { force: true });
    process.exit(1);
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    return await copyAll(args, ctx, copyContext, () => failed, logger, print);
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

async function copyAll(
  args: ScpArgs,
  ctx: CliContext,
  copyContext: CopyContext,
  anyFailed: () => boolean,
  logger: Logger,
  print: (message: string) => void,
): Promise<number> {
  let failed = false;
  const copy = new ScpCopy(copyContext, args.targetShouldBeDirectory);
  const sessions = new Map<string, Promise<OpenSftp>>();
  const connect = (r: Remote): Promise<OpenSftp> => {
    const target: SessionTarget = { host: r.host, user: r.user, port: r.port ?? args.port };
    const key = JSON.stringify(target);
    let s = sessions.get(key);
    if (s === undefined) {
      const options = {
        ...(args.bufferLength !== undefined && { bufferLength: args.bufferLength }),
        ...(args.requests !== undefined && { requests: args.requests }),
      };
      s = (
        args.direct === undefined
          ? openSftpSession(args.sshOptions, target, ctx.stderr, logger, options)
          : openDirectServer(args.direct, options)
      ).catch((err: unknown) => {
        printSshFailure(err, args.quiet, ctx.stderr);
        throw new ConnectionClosed();
      });
      sessions.set(key, s);
    }
    return s;
  };
  const operands = args.operands.map(parseOperand);
  const targetWord = args.operands.at(-1)!;
  const target = operands.at(-1)!;
  try {
    if (target.kind === 'invalid') {
      print(`${targetWord}: invalid uri`);
      return 1;
    }
    if (target.kind === 'local' && args.targetShouldBeDirectory) {
      // verifydir(): a missing or non-directory target fails before anything is copied.
      let problem: unknown;
      await stat(target.path).then(
        (st) => {
          if (!st.isDirectory()) problem = { code: 'ENOTDIR' };
        },
        (err: unknown) => {
          problem = err;
        },
      );
      if (problem !== undefined) {
        // run_err(): no program name, a plain newline.
        ctx.stderr.write(`${target.path}: ${strerror(problem)}\n`);
        return 1;
      }
    }
    for (const [i, src] of operands.slice(0, -1).entries()) {
      if (src.kind === 'invalid') {
        print(`${args.operands[i]}: invalid uri`);
        failed = true;
        continue;
      }
      if (src.kind === 'local' && target.kind === 'local') {
        if (!(await localCopy(args, src.path, target.path))) failed = true;
      } else if (src.kind === 'local' && target.kind === 'remote') {
        const to = await connect(target);
        await copy.upload(to.client, Buffer.from(src.path), Buffer.from(target.path));
      } else if (src.kind === 'remote' && target.kind === 'local') {
        const from = await connect(src);
        await copy.download(from.client, Buffer.from(src.path), Buffer.from(target.path));
      } else if (src.kind === 'remote' && target.kind === 'remote') {
        const [from, to] = await Promise.all([connect(src), connect(target)]);
        await copy.crossload(from.client, to.client, Buffer.from(src.path), Buffer.from(target.path));
      }
    }
  } catch (err) {
    if (err instanceof ConnectionClosed) print('Connection closed');
    else if (err instanceof LocalError && err.code === SCP_FATAL) print(err.message);
    else throw err;
    await closeAll(sessions);
    return SCP_FATAL_EXIT;
  }
  // scp waits for each ssh and counts a non-zero exit as a failure.
  if ((await closeAll(sessions)).some((code) => code !== 0)) failed = true;
  return failed || anyFailed() ? 1 : 0;
}

async function closeAll(sessions: Map<string, Promise<OpenSftp>>): Promise<number[]> {
  const settled = await Promise.allSettled([...sessions.values()]);
  return Promise.all(settled.map((s) => (s.status === 'fulfilled' ? s.value.close() : Promise.resolve(255))));
}

/** Local to local: scp runs cp(1) with -r and -p as given. */
function localCopy(args: ScpArgs, src: string, dst: string): Promise<boolean> {
  const argv = [...(args.recursive ? ['-r'] : []), ...(args.preserve ? ['-p'] : []), '--', src, dst];
  return new Promise((resolve) => {
    const child = spawn('cp', argv, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', () => resolve(false));
    child.on('close', (code) => resolve(code === 0));
  });
}
