import { spawn } from 'node:child_process';

/**
 * Run LocalCommand as ssh's ssh_local_cmd() does: `$SHELL -c command` (`/bin/sh` when SHELL
 * is unset or empty), sharing our stdin, stdout and stderr, and wait for it. Its exit status
 * is ignored, as in ssh; a shell that cannot start is reported on stderr in ssh's words.
 */
export function runLocalCommand(
  command: string,
  env: NodeJS.ProcessEnv = process.env,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<void> {
  const shell = env.SHELL || '/bin/sh';
  return new Promise((resolve) => {
    const child = spawn(shell, ['-c', command], { stdio: 'inherit', env });
    child.once('error', (err) => {
      stderr.write(`Couldn't execute ${shell} -c "${command}": ${err.message}\n`);
      resolve();
    });
    child.once('close', () => resolve());
  });
}
